// An evaluation none of whose objects any user policy could judge does not call into the sandbox (issue 17: a
// review of a kind no user policy names costs what it costs with built-ins alone), and answers exactly as the
// sandbox would have: no finding, no check, no severity from the users' side.
import t from 'tap';
import { createEvaluator, loadUserPolicies } from '../../src/engine/index.js';
import { sandboxOf } from '../../src/engine/sandbox/registry.js';
import { definePolicy } from '../../src/index.js';
import type { Policy } from '../../src/authoring/index.js';

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [{ name: 'a', image: 'docker.io/a:1' }] } };
const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'shop' }, spec: { template: { spec: { containers: [{ name: 'a', image: 'docker.io/a:1' }] } } } };
const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' } };

const builtin: Policy = definePolicy({
  id: 'builtin.cm',
  title: 'a built-in on ConfigMaps',
  area: 'test',
  severity: 'low',
  action: 'warn',
  match: { kinds: ['ConfigMap'] },
  validate({ report }) {
    report('a ConfigMap');
  },
  examples: { pass: [{}], fail: [{}] },
} as never);

async function withCalls(t: Tap.Test, file: string) {
  const user = await loadUserPolicies([file], { cache: false });
  t.same(user.errors, []);
  for (const p of user.candidates) user.accept(p);
  const host = sandboxOf(user.candidates[0])!;
  let calls = 0;
  const run = host.run.bind(host);
  host.run = (...args) => (calls++, run(...args));
  const evaluator = await createEvaluator([builtin, ...user.candidates]);
  t.teardown(() => evaluator.close());
  if (!evaluator.sync) throw new Error('the sandboxed evaluator is synchronous');
  return { evaluator, calls: () => calls };
}

t.test('object-scope user policies on Pods: a ConfigMap never reaches the sandbox, a Pod and a Deployment do', async (t) => {
  const { evaluator, calls } = await withCalls(t, 'test/fixtures/sandbox/cluster/context.ts'); // tenant.cluster-context, on Pods
  const r = evaluator.evaluateObject(cm, { operation: 'CREATE' });
  t.equal(calls(), 0, 'a ConfigMap: no call');
  t.same(r.findings.map((f) => f.policy), ['builtin.cm']);
  t.same(r.checks, {});
  t.same(r.topSeverity, [null], 'the users\' side said nothing, as the sandbox would');
  const inventory = evaluator.evaluate([{ object: cm }, { object: { ...cm, metadata: { name: 'd', namespace: 'shop' } } }]);
  t.equal(calls(), 0, 'an inventory of ConfigMaps: no call');
  t.same(inventory.topSeverity, ['low', 'low']);
  t.same(evaluator.evaluateObject(pod).findings.map((f) => f.policy), ['tenant.cluster-context']);
  t.same(evaluator.evaluateObject(deployment).findings.map((f) => f.policy), ['tenant.cluster-context'], 'autogen: a Deployment\'s pod template');
  t.equal(calls(), 2, 'a Pod and a Deployment: one call each');
  t.same(evaluator.evaluate([{ object: cm }, { object: pod }]).checks, { 'builtin.cm': 1, 'tenant.cluster-context': 1 });
  t.equal(calls(), 3, 'an inventory with one Pod: one call');
  const clusterOnly = evaluator.evaluate([{ object: pod }], { scopes: ['cluster'] });
  t.equal(calls(), 3, 'the cluster scope alone, and no cluster-scope user policy: no call, even for a Pod');
  t.equal(clusterOnly.topSeverity, undefined, 'no per-object severity when no object is judged, as the engine says');
});

t.test('a cluster-scope user policy: every evaluation of that scope reaches the sandbox', async (t) => {
  const { evaluator, calls } = await withCalls(t, 'test/fixtures/sandbox/shared/b-honest.ts'); // tenant.registry (Pods) + tenant.pod-count (cluster scope)
  evaluator.evaluateObject(cm);
  t.equal(calls(), 0, 'admission runs object and namespace scopes: no call for a ConfigMap');
  evaluator.evaluate([{ object: cm }]);
  t.equal(calls(), 1, 'a whole inventory runs the cluster scope too');
});
