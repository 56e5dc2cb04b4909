// What every cluster's fleet index keeps: only the fields the fleet rules read (`reads`), so memory grows with
// what rules need, not with the fleet's objects.
import t from 'tap';
import { definePolicy, type KubeObject } from '../../src/index.js';
import { builtinPolicies } from '../../policies/index.js';
import { fleetIndexOf } from '../../scanner/fleet-rules.js';

const se: KubeObject = {
  apiVersion: 'networking.istio.io/v1beta1',
  kind: 'ServiceEntry',
  metadata: { name: 'ledger-global', namespace: 'payments', uid: 'u1', annotations: { note: 'x' } },
  spec: { hosts: ['ledger.payments.svc.cluster.global'], endpoints: [{ address: 'a', labels: { cluster: 'fra01' } }] },
};
const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ledger', namespace: 'payments', labels: { app: 'ledger' } }, spec: { ports: [{ port: 8443 }] } };
const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments', labels: { 'fleetgate.io/data-classification': 'personal' }, uid: 'u2' }, status: { phase: 'Active' } };
const critical: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop', labels: { 'fleetgate.io/critical': 'true' } }, spec: { template: { spec: { containers: [{ name: 'web', image: 'web:1' }] } } } };
const plain: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'batch', namespace: 'shop' }, spec: { replicas: 1 } };
const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' }, data: { a: 'b' } };

t.test('the index keeps what the built-in fleet rules read, nothing more', async (t) => {
  const index = fleetIndexOf([se, svc, ns, critical, plain, cm], builtinPolicies)!;
  t.same(index.map((o) => `${o.kind}/${o.metadata?.name}`), ['ServiceEntry/ledger-global', 'Service/ledger', 'Namespace/payments', 'Deployment/web']);
  t.same(index[0], { apiVersion: se.apiVersion, kind: 'ServiceEntry', metadata: { name: 'ledger-global', namespace: 'payments' }, spec: se.spec }, 'a ServiceEntry: its spec');
  t.same(index[1], { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ledger', namespace: 'payments', labels: { app: 'ledger' } } }, 'a Service: identity and labels');
  t.same(index[2], { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments', labels: ns.metadata!.labels } }, 'a Namespace: its labels');
  t.notOk('spec' in index[3], 'a critical workload without its pod template');
  t.equal(se.metadata?.uid, 'u1', 'the cluster\'s objects are not changed');
});

t.test('reads is for fleet scope only, as per-kind lists of fields', async (t) => {
  t.throws(
    () => definePolicy({ id: 'x.y', title: 't', area: 'x', severity: 'low', action: 'warn', match: { kinds: ['Pod'] }, reads: { Pod: ['spec'] }, validate() {}, examples: { pass: [{ objects: [] }], fail: [{ objects: [] }] } } as never),
    /reads is for fleet scope/,
  );
});
