// Evaluation.topSeverity through the sandbox (issue 13 on main's shared runtime): the users' policies' severities
// come back from the one engine pass in the isolate, per judged object, and join the built-ins' (the higher wins).
import t from 'tap';
import { createEvaluator, loadUserPolicies } from '../../src/engine/index.js';
import type { Policy } from '../../src/authoring/index.js';
import { definePolicy } from '../../src/index.js';

const F = 'test/fixtures/sandbox/shared/b-honest.ts'; // tenant.registry (high, Pods), tenant.pod-count (cluster scope)

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [{ name: 'a', image: 'docker.io/a:1' }] } };
const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' } };
const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'shop' } };

const builtin: Policy = definePolicy({
  id: 'builtin.cm',
  title: 'a built-in on ConfigMaps and Pods',
  area: 'test',
  severity: 'low',
  action: 'warn',
  match: { kinds: ['ConfigMap', 'Pod'] },
  validate() {},
  examples: { pass: [{}], fail: [{}] },
} as never);

t.test('per object: the highest severity of the policies that applied, users\' ones from the sandbox', async (t) => {
  const user = await loadUserPolicies([F], { cache: false });
  t.same(user.errors, []);
  for (const p of user.candidates) user.accept(p);
  const evaluator = await createEvaluator([builtin, ...user.candidates]);
  t.teardown(() => evaluator.close());
  const r = await evaluator.forCluster({ name: 'one' }).evaluate([{ object: pod }, { object: cm }, { object: secret }]);
  t.same(r.topSeverity, ['high', 'low', null], 'Pod: the user\'s high beats the built-in low; ConfigMap: the built-in alone; Secret: none');
  t.ok(r.findings.some((f) => f.policy === 'tenant.registry'), 'the user policy ran');
});
