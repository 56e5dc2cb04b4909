// The reviews of one event-loop turn go into the isolate in one call (createEvaluator perTurn, PolicyHost.runBatch):
// each review must get the verdict it would get alone, and a policy the sandbox stops on one review is an error
// finding on that review only, wherever it sat in the batch.
import t from 'tap';
import { join } from 'node:path';
import { createEvaluator, type Evaluation } from '../../src/index.js';
import { loadPolicySet } from '../../src/loading/index.js';
import { sandboxOf } from '../../src/engine/sandbox/registry.js';
import { MAX_BATCH } from '../../src/engine/sandbox/protocol.js';
import { builtinPolicies } from '../../policies/index.js';
import { review, startServer } from '../helpers/webhook.js';

const HOSTILE = 'test/fixtures/core/hostile-policies';
const configMap = (name: string, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'shop', ...(labels ? { labels } : {}) },
});
const userFindings = (e: Evaluation) => e.findings.map((f) => [f.policy, f.resource.name, f.error === true]).sort();

t.test('perTurn: a runaway policy in a batch is stopped on its own review only; the others keep their verdicts', async (t) => {
  const { policies, errors } = await loadPolicySet([HOSTILE], { builtins: [] });
  t.same(errors, []);
  const batched = await createEvaluator(policies, {}, { sandbox: { timeoutMs: 1000 }, perTurn: true });
  t.teardown(() => batched.close());
  t.equal(batched.sync, false, 'with users\' policies, perTurn makes an asynchronous evaluator');
  // The runaway first in the batch (the budget was its own), in the middle, and the allocating one too.
  const names = ['spin', 'plain', 'labelled', 'spin', 'hog', 'plain', 'labelled'];
  const objects = names.map((n) => (n === 'labelled' ? configMap(n, { owner: 'team-a' }) : configMap(n)));
  const answers = await Promise.all(objects.map((o) => batched.evaluateObject(o)));
  const expected: Record<string, (string | boolean)[][]> = {
    spin: [['hostile.honest', 'spin', false], ['hostile.loops', 'spin', true]],
    plain: [['hostile.honest', 'plain', false]],
    labelled: [],
    hog: [['hostile.allocates', 'hog', true], ['hostile.honest', 'hog', false]],
  };
  answers.forEach((a, i) => t.same(userFindings(a), expected[names[i]], `review ${i} (${names[i]})`));
  t.match(answers[0].findings.find((f) => f.policy === 'hostile.loops'), { message: /stopped \(timed out after 1000 ms\)/ });
  t.match(answers[4].findings.find((f) => f.policy === 'hostile.allocates'), { message: /stopped \(exceeded the memory limit\)/ });
  for (const i of [1, 2, 5, 6]) t.equal(answers[i].checks['hostile.loops'], 1, `review ${i}: the runaway policy still judged this object (not stopped for it)`);

  // The same objects one at a time through the synchronous evaluator: the same verdicts.
  const single = await createEvaluator(policies, {}, { sandbox: { timeoutMs: 1000 } });
  t.teardown(() => single.close());
  if (!single.sync) throw new Error('expected a synchronous evaluator');
  for (const i of [1, 2, 5, 6]) t.same(userFindings(answers[i]), userFindings(single.evaluateObject(objects[i])), `review ${i} as when judged alone`);

  // The heap limit hit after the first job of a call (the isolate is rebuilt, the answers before it are lost and
  // judged again): every review still gets its own verdict.
  const late = await Promise.all([configMap('plain'), configMap('hog'), configMap('labelled', { owner: 'team-a' })].map((o) => batched.evaluateObject(o)));
  t.same(late.map(userFindings), [expected.plain, expected.hog, expected.labelled], 'memory stop in the middle of a call');

  // The next turn is judged normally: nothing stays stopped.
  const again = await Promise.all([batched.evaluateObject(configMap('plain')), batched.evaluateObject(configMap('other'))]);
  t.same(again.map((a) => a.checks), [{ 'hostile.allocates': 1, 'hostile.honest': 1, 'hostile.loops': 1 }, { 'hostile.allocates': 1, 'hostile.honest': 1, 'hostile.loops': 1 }]);
});

t.test('runBatch: more jobs than one call takes come back complete and in order', async (t) => {
  const { policies } = await loadPolicySet([HOSTILE], { builtins: [] });
  const host = sandboxOf(policies[0])!;
  const ev = await createEvaluator(policies); // adopts the policies in the host
  t.teardown(() => ev.close());
  const n = MAX_BATCH * 2 + 3;
  const jobs = Array.from({ length: n }, (_, i) => ({ cluster: {}, objects: [configMap(`cm-${i}`, i % 2 ? { owner: 'x' } : undefined)], now: Date.now() }));
  const results = host.runBatch(jobs);
  t.equal(results.length, n);
  t.same(
    results.map((r) => r.findings.map((f) => [f.policy, f.resourceIndex])),
    jobs.map((_, i) => (i % 2 ? [] : [['hostile.honest', 0]])),
    'every job its own findings, in the jobs\' order',
  );
  t.ok(results.every((r) => r.stopped.length === 0 && r.checks['hostile.honest'] === 1));
});

t.test('runBatch: a promise job left running after the batch is blamed on the file that queued it', async (t) => {
  const { policies, errors } = await loadPolicySet([join('test/fixtures/sandbox/microtask')], { builtins: [] });
  t.same(errors, []);
  const ev = await createEvaluator(policies, {}, { sandbox: { timeoutMs: 500 }, perTurn: true });
  t.teardown(() => ev.close());
  const pod = (hostPID: boolean) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${hostPID}`, namespace: 'shop' }, spec: { hostPID, containers: [{ name: 'a', image: 'a:1' }] } });
  const answers = await Promise.all([ev.evaluateObject(pod(true)), ev.evaluateObject(pod(false))]);
  t.same(
    answers.map((a) => a.findings.map((f) => [f.policy, f.error === true]).sort()),
    [
      [['hostile.queues-forever', true], ['tenant.no-host-pid', false]],
      [['hostile.queues-forever', true]],
    ],
  );
});

t.test('ctx.username reaches user policies: synchronous, per turn and through serve', async (t) => {
  const { policies, errors } = await loadPolicySet(['test/fixtures/sandbox/username'], { builtins: [] });
  t.same(errors, []);
  const sync = await createEvaluator(policies);
  t.teardown(() => sync.close());
  if (!sync.sync) throw new Error('expected a synchronous evaluator');
  t.same(sync.evaluateObject(configMap('a'), { username: 'alice' }).findings.map((f) => f.message), ['asked by alice']);
  t.same(sync.evaluateObject(configMap('a')).findings.map((f) => f.message), [], 'no user, no username');
  const perTurn = await createEvaluator(policies, {}, { perTurn: true });
  t.teardown(() => perTurn.close());
  const both = await Promise.all(['bob', 'carol'].map((username) => perTurn.evaluateObject(configMap('a'), { username })));
  t.same(both.map((e) => e.findings.map((f) => f.message)), [['asked by bob'], ['asked by carol']]);

  const served = await loadPolicySet(['test/fixtures/sandbox/username'], { builtins: builtinPolicies });
  const s = await startServer({ policies: served.policies });
  t.teardown(() => s.close());
  const r = await s.post(review(configMap('a'), { user: 'system:serviceaccount:ci:deployer' }));
  t.same(r.json.response.warnings, ['[tenant.who-asked] asked by system:serviceaccount:ci:deployer']);
});
