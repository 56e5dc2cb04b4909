import t from 'tap';
import { computeDrift, diffObject, REDACTED } from '../../scanner/drift.js';
import { DesiredState, mergePatch } from '../../scanner/desired.js';
import { fleetScore, scoreOf, SYNC_WEIGHT } from '../../scanner/score.js';
import { identityOf, type KubeObject } from '../../src/index.js';

const deploy = (image: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    template: { spec: { containers: [{ name: 'sidecar', image: 'envoy:1' }, { name: 'web', image, resources: { limits: { cpu: '1', memory: '1Gi' } } }] } },
  },
  ...extra,
});

t.test('JSON merge patch: objects merge, null deletes, lists replace', async (t) => {
  t.same(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { c: null, d: 3 }, l: [3] }), { a: { b: 1, d: 3 }, l: [3] });
});

t.test('layers chosen by labels, later layers merged over earlier ones', async (t) => {
  const ns = (labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels } });
  const layer = (path: string, when: Record<string, string> | undefined, objects: KubeObject[]) => ({ layer: { path, dir: path, when }, objects });
  const d = new DesiredState([
    layer('base', undefined, [ns({ team: 'shop', tier: 'std' })]),
    layer('overlays/cluster-type-edge', { type: 'edge' }, [ns({ tier: 'edge' }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'edge-only', namespace: 'shop' } }]),
    layer('overlays/cluster-type-transit', { type: 'transit' }, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'transit-only', namespace: 'shop' } }]),
  ]);
  const edge = d.for({ labels: { type: 'edge' } });
  const transit = d.for({ labels: { type: 'transit' } });
  t.same(d.layerNames({ labels: { type: 'transit' } }), ['base', 'overlays/cluster-type-transit']);
  t.same(edge.get('/Namespace//shop')?.metadata?.labels, { team: 'shop', tier: 'edge' });
  t.ok(edge.has('/ConfigMap/shop/edge-only'));
  t.notOk(transit.has('/ConfigMap/shop/edge-only'), 'the edge overlay does not reach a transit cluster');
  t.ok(transit.has('/ConfigMap/shop/transit-only'));
  t.same(transit.get('/Namespace//shop')?.metadata?.labels, { team: 'shop', tier: 'std' });
  t.equal(d.for({ labels: { type: 'edge', region: 'x' } }), edge, 'same layer set → same cached desired state');
});

t.test('in sync despite server fields, defaults and extra live labels', async (t) => {
  const live = deploy('web:2');
  live.metadata = { ...live.metadata, labels: { app: 'web', 'argocd.argoproj.io/instance': 'x' }, resourceVersion: '9', uid: 'u', managedFields: [] };
  (live.spec as Record<string, unknown>).strategy = { type: 'RollingUpdate' };
  live.status = { replicas: 2 };
  const c = ((live.spec as any).template.spec.containers as any[]);
  c[1].resources.limits.cpu = '1000m';
  c[1].resources.limits.memory = '1073741824';
  c.reverse(); // order of named items does not matter
  t.same(diffObject(deploy('web:2'), live), []);
});

t.test('modified: every difference with path, desired and live value', async (t) => {
  const live = deploy('web:1');
  (live.spec as any).replicas = 3;
  (live.spec as any).template.spec.containers = [{ name: 'web', image: 'web:1', resources: { limits: { cpu: '1', memory: '1Gi' } } }];
  t.same(diffObject(deploy('web:2'), live), [
    { path: '$.spec.replicas', desired: 2, live: 3 },
    { path: "$.spec.template.spec.containers[?(@.name=='sidecar')]", desired: { name: 'sidecar', image: 'envoy:1' }, live: null },
    { path: "$.spec.template.spec.containers[?(@.name=='web')].image", desired: 'web:2', live: 'web:1' },
  ]);
  const labels = diffObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: { 'fleetgate.io/data-classification': 'personal' } } }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
  t.same(labels, [{ path: "$.metadata.labels['fleetgate.io/data-classification']", desired: 'personal', live: null }]);
  const list = diffObject({ apiVersion: 'v1', kind: 'X', metadata: { name: 'a' }, spec: { types: ['Ingress', 'Egress'] } }, { apiVersion: 'v1', kind: 'X', metadata: { name: 'a' }, spec: { types: ['Ingress'] } });
  t.same(list, [{ path: '$.spec.types', desired: ['Ingress', 'Egress'], live: ['Ingress'] }]);
});

t.test('Secret values never appear in diffs', async (t) => {
  const want: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'a' }, data: { password: 'aHVudGVyMg==' }, stringData: { token: 'tok-123' } };
  const have: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'a' }, data: { password: 'b3RoZXI=', token: 'b2xk' } };
  const diffs = diffObject(want, have);
  t.equal(diffs.length, 2);
  const text = JSON.stringify(diffs);
  for (const secret of ['aHVudGVyMg==', 'b3RoZXI=', 'tok-123', 'b2xk']) t.notMatch(text, secret);
  t.ok(diffs.every((d) => d.desired === REDACTED && d.live === REDACTED));
  const inSync = diffObject({ ...want, data: undefined, stringData: { token: 'x' } } as KubeObject, { ...have, data: { token: Buffer.from('x').toString('base64') } });
  t.same(inSync, [], 'stringData compares with the base64 data the server keeps');
});

t.test('each drift state, and unmanaged only for owned kinds', async (t) => {
  const np = (name: string, ns = 'shop'): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec: { podSelector: {} } });
  const desired = new Map<string, KubeObject>([np('default-deny'), np('allow-dns'), deploy('web:2')].map((o) => [identityOf(o), o]));
  const live = [np('default-deny'), deploy('web:1'), np('debug'), np('calico', 'kube-system'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'shop' } }];
  const r = computeDrift(desired, live, ['NetworkPolicy']);
  t.equal(r.desired, 3);
  t.equal(r.inSync, 1);
  t.same(r.entries.map((e) => [e.state, e.resource.name]), [['missing', 'allow-dns'], ['modified', 'web'], ['unmanaged', 'debug']]);
  t.equal(computeDrift(desired, live, []).unmanaged, 0, 'no owned kinds: nothing is unmanaged');
});

t.test('score: weights, unscored clusters and the fleet mean', async (t) => {
  t.same(scoreOf({ desired: 4, inSync: 3, unmanaged: 0 }, {}), { score: 75, totalWeight: 20, passedWeight: 15 });
  const s = scoreOf({ desired: 2, inSync: 2, unmanaged: 1 }, { 'a.crit': { severity: 'critical', checks: 2, failed: 1 }, 'a.low': { severity: 'low', checks: 4, failed: 0 } });
  // total = 3*5 + 2*10 + 4*1 = 39; passed = 2*5 + 1*10 + 4 = 24
  t.same(s, { score: 61.5, totalWeight: 39, passedWeight: 24 });
  t.equal(SYNC_WEIGHT, 5);
  t.equal(scoreOf({ desired: 0, inSync: 0, unmanaged: 0 }, {}).score, 100);
  t.equal(fleetScore([{ score: 80 }, { score: null }, { score: 91 }]), 85.5);
  t.equal(fleetScore([{ score: null }]), null);
});
