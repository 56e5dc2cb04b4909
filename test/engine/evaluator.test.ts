import t from 'tap';
import { createEvaluator, defineClusterPolicy, definePolicy, inProcessEvaluator, type KubeObject, type Resource } from '../../src/index.js';
import { loadPolicySet } from '../../src/loading/index.js';

/** The evaluation façade: one Evaluator per policy set and cluster, sync or async decided when it is made. */

const noLatest = definePolicy({
  id: 'test.no-latest',
  title: 'no :latest',
  area: 'test',
  severity: 'medium',
  action: 'deny',
  match: { kinds: ['Pod'] },
  validate({ pod, report }) {
    for (const c of pod.containers()) if (String(c.spec.image).endsWith(':latest')) report(`container "${c.name}" uses :latest`, c.path('image'));
  },
  examples: { pass: [{}], fail: [{}] },
});

const teamLabel = definePolicy({
  id: 'test.team-namespace',
  title: 'objects live in a namespace labelled with a team',
  area: 'test',
  severity: 'low',
  action: 'warn',
  scope: 'namespace',
  match: { kinds: ['ConfigMap'] },
  validate({ namespace, report }) {
    if (!namespace.labels.team) report(`namespace "${namespace.name}" has no team label`);
  },
  examples: { pass: [{}], fail: [{}] },
});

const hasConfig = defineClusterPolicy({
  id: 'test.namespace-has-config',
  title: 'every namespace holds a ConfigMap',
  area: 'test',
  severity: 'high',
  action: 'deny',
  scope: 'cluster',
  match: { kinds: ['Namespace', 'ConfigMap'] },
  validate({ inventory, report }) {
    for (const ns of inventory.namespaces()) if (!inventory.ofKind('ConfigMap', ns.metadata?.name).length) report(ns, 'no ConfigMap');
  },
  examples: { pass: [{}], fail: [{}] },
});

const policies = [noLatest, teamLabel, hasConfig];
const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const cm = (name: string, namespace: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace } });
const pod = (name: string, namespace: string, image: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace },
  spec: { containers: [{ name: 'app', image }] },
});
const ids = (findings: { policy: string; resource: { name: string } }[]) => findings.map((f) => `${f.policy}@${f.resource.name}`).sort();

t.test('built-in policies only: synchronous, decided at construction', async (t) => {
  const ev = await createEvaluator(policies, { labels: { region: 'eu' } });
  t.equal(ev.sync, true);
  if (!ev.sync) return;
  const result = ev.evaluate([{ object: ns('a', { team: 'x' }) }, { object: pod('p', 'a', 'nginx:latest') }]);
  t.notOk(result instanceof Promise, 'evaluate returns the Evaluation itself');
  t.same(ids(result.findings), ['test.namespace-has-config@a', 'test.no-latest@p']);
  t.same(result.checks, { 'test.no-latest': 1 }, 'a whole inventory counts checks');
  const one = ev.evaluateObject(pod('p', 'a', 'nginx:latest'));
  t.same(ids(one.findings), ['test.no-latest@p'], 'one object: object and namespace scopes only');
  t.same(one.checks, {}, 'admission does not count checks');
  t.same(ev.labels, { region: 'eu' });
  t.equal(ev.appliesTo('Pod'), true);
  t.equal(ev.appliesTo('Deployment'), true, 'autogen: a Pod policy judges controllers');
  t.equal(ev.appliesTo('Secret'), false);
  t.same(ev.forCluster({ labels: { region: 'us' } }).labels, { region: 'us' });
  await ev.close();
});

t.test('a user policy from a file: synchronous too (a V8 isolate called with a budget), with built-ins still judged and merged', async (t) => {
  const loaded = await loadPolicySet(['test/fixtures/core/user-policies'], { builtins: policies });
  t.same(loaded.errors, []);
  const ev = await createEvaluator(loaded.policies, {}, { sandbox: { timeoutMs: 10_000 } });
  t.teardown(() => ev.close());
  t.equal(ev.sync, true, 'the isolate answers on the calling thread: no promise, no worker round trip');
  if (!ev.sync) return;
  const result = ev.evaluateObject(pod('p', 'a', 'nginx:latest'));
  t.notOk(result instanceof Promise, 'evaluateObject returns the Evaluation itself');
  t.same(ids(result.findings), ['acme.no-latest-tag@p', 'test.no-latest@p']);
  t.equal(ev.appliesTo('Pod'), true);
  t.equal(ev.appliesTo('Secret'), false, 'users’ policies are matched on this thread too');
  const other = ev.forCluster({ labels: { region: 'us' } });
  t.same(ids(other.evaluate([{ object: pod('q', 'b', 'app:latest') }], { scopes: ['object'] }).findings), ['acme.no-latest-tag@q', 'test.no-latest@q'], 'another cluster shares the sandbox');
});

t.test('evaluateChange: one changed object against the inventory the caller keeps', async (t) => {
  const ev = inProcessEvaluator(policies);
  const inventory: Resource[] = [ns('a', { team: 'x' }), ns('b'), cm('c1', 'a'), cm('c2', 'b'), pod('p', 'a', 'nginx:1.27')].map((object) => ({ object }));
  const full = ev.evaluate(inventory);
  t.same(ids(full.findings), ['test.team-namespace@c2']);

  // A pod changes: only it (and the cluster-scope policies) are judged again.
  const changed = pod('p', 'a', 'nginx:latest');
  inventory[4] = { object: changed };
  const r = ev.evaluateChange(inventory, { object: changed });
  t.same(ids(r.findings), ['test.no-latest@p']);
  t.same(r.reevaluated.objects.map((o) => o.name), ['p']);
  t.same(r.reevaluated.clusterPolicies, ['test.namespace-has-config', 'fleetgate.exception-expired', 'fleetgate.exception-invalid']);

  // A namespace's labels change: every object in it is judged again (namespace-scope policies read those labels).
  const relabelled = ns('b', { team: 'y' });
  inventory[1] = { object: relabelled };
  const n = ev.evaluateChange(inventory, { object: relabelled });
  t.same(n.reevaluated.objects.map((o) => o.name).sort(), ['b', 'c2']);
  t.same(ids(n.findings), [], 'c2 now lives in a team namespace');

  // A deletion: the object is gone from the inventory; cluster-scope policies see that.
  const gone = inventory.splice(3, 1)[0].object;
  const d = ev.evaluateChange(inventory, { object: gone, deleted: true });
  t.same(d.reevaluated.objects, [], 'nothing left to judge of the deleted object');
  t.same(ids(d.findings), ['test.namespace-has-config@b'], 'namespace b lost its only ConfigMap');

  // The same verdict as a full evaluation of the inventory, for what the change covers.
  t.same(ids(ev.evaluate(inventory).findings), ['test.namespace-has-config@b', 'test.no-latest@p']);
});

t.test('evaluateChange applies the inventory’s waivers; a changed waiver judges everything again', async (t) => {
  const ev = inProcessEvaluator(policies);
  const waiver: KubeObject = {
    apiVersion: 'fleetgate.io/v1alpha1',
    kind: 'PolicyException',
    metadata: { name: 'w', namespace: 'a' },
    spec: { policies: ['test.no-latest'], resources: [{ kind: 'Pod', namespace: 'a', name: 'p' }], expires: '2099-01-01', reason: 'migration' },
  };
  const p = pod('p', 'a', 'nginx:latest');
  const inventory: Resource[] = [ns('a', { team: 'x' }), cm('c', 'a'), p, waiver].map((object) => ({ object }));
  const r = ev.evaluateChange(inventory, { object: p });
  t.same(ids(r.findings), [], 'waived');
  t.equal(r.waived, 1);
  const w = ev.evaluateChange(inventory, { object: waiver });
  t.same(w.reevaluated.objects.map((o) => o.name).sort(), ['a', 'c', 'p', 'w'], 'every object');
  t.equal(w.waived, 1);
});

t.test('duplicate policy ids are refused when the evaluator is made', async (t) => {
  t.throws(() => inProcessEvaluator([noLatest, noLatest]), /defined twice/);
  await t.rejects(createEvaluator([noLatest, noLatest]), /defined twice/);
});
