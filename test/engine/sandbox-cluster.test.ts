// The cluster context crosses into the isolate once (a job names it by a number), not with every job: user
// policies still see the context of the evaluator that called them, however the calls interleave, and after the
// isolate forgot the context (it keeps MAX_CONTEXTS) the host sends it again.
import t from 'tap';
import { createEvaluator, loadUserPolicies } from '../../src/engine/index.js';
import { MAX_CONTEXTS } from '../../src/engine/sandbox/protocol.js';
import { sandboxOf } from '../../src/engine/sandbox/registry.js';

const F = 'test/fixtures/sandbox/cluster/context.ts';
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [{ name: 'a', image: 'a:1' }] } };

t.test('each cluster context reaches the user policies of its own evaluator', async (t) => {
  const user = await loadUserPolicies([F], { cache: false });
  t.same(user.errors, []);
  for (const p of user.candidates) user.accept(p);
  const evaluator = await createEvaluator(user.candidates, { name: 'home', labels: { region: 'north' } });
  t.teardown(() => evaluator.close());
  const edge = evaluator.forCluster({ name: 'edge-7', labels: { region: 'south', type: 'edge' } });
  const bare = evaluator.forCluster({});
  const said = (e: typeof evaluator) => (e.sync ? e.evaluateObject(pod) : undefined)!.findings.map((f) => f.message);
  for (let round = 0; round < 2; round++) {
    t.same(said(evaluator), ['cluster home region north'], `round ${round}: the evaluator's own context`);
    t.same(said(edge), ['cluster edge-7 region south'], `round ${round}: another cluster's context, bound apart`);
    t.same(said(bare), ['cluster (none) region (none)'], `round ${round}: an empty context`);
  }
});

t.test('more contexts than the isolate keeps: a forgotten context is sent again, synchronously and per turn', async (t) => {
  const user = await loadUserPolicies([F], { cache: false });
  for (const p of user.candidates) user.accept(p);
  const sync = await createEvaluator(user.candidates, { name: 'c0', labels: { region: 'r0' } });
  const perTurn = await createEvaluator(user.candidates, { name: 'turn', labels: { region: 'late' } }, { perTurn: true });
  t.teardown(async () => {
    await sync.close();
    await perTurn.close();
  });
  if (!sync.sync || perTurn.sync) throw new Error('expected one synchronous and one per-turn evaluator');
  const turn = async () => (await Promise.all([perTurn.evaluateObject(pod), perTurn.evaluateObject(pod)])).map((e) => e.findings.map((f) => f.message));
  t.same(await turn(), [['cluster turn region late'], ['cluster turn region late']], 'per turn, before');
  const clusters = Array.from({ length: MAX_CONTEXTS + 20 }, (_, i) => sync.forCluster({ name: `c${i + 1}`, labels: { region: `r${i + 1}` } }));
  const said = (e: typeof sync) => (e.sync ? e.evaluateObject(pod) : undefined)!.findings.map((f) => f.message);
  const wrong: string[] = [];
  for (let round = 0; round < 2; round++)
    clusters.forEach((e, i) => {
      const got = said(e as typeof sync).join();
      if (got !== `cluster c${i + 1} region r${i + 1}`) wrong.push(`round ${round}, c${i + 1}: ${got}`);
    });
  t.same(wrong, [], 'every cluster judged with its own context, the forgotten ones included');
  t.same(said(sync), ['cluster c0 region r0'], 'the first context, forgotten by the isolate since');
  t.same(await turn(), [['cluster turn region late'], ['cluster turn region late']], 'per turn, after its context was forgotten');
});

t.test('a job naming a context the isolate does not hold is answered "unknown" and sent again with it', async (t) => {
  const user = await loadUserPolicies([F], { cache: false });
  for (const p of user.candidates) user.accept(p);
  const sync = await createEvaluator(user.candidates, { name: 'a', labels: { region: 'x' } });
  const perTurn = await createEvaluator(user.candidates, {}, { perTurn: true });
  t.teardown(async () => {
    await sync.close();
    await perTurn.close();
  });
  if (!sync.sync || perTurn.sync) throw new Error('expected one synchronous and one per-turn evaluator');
  // White box: make the host believe the isolate holds the next context it numbers (as after a call stopped
  // between the job that carried a context and the isolate reading it).
  const host = sandboxOf(user.candidates[0]) as unknown as { sent: Set<number>; nextContext: number };
  host.sent.add(host.nextContext);
  const b = sync.forCluster({ name: 'b', labels: { region: 'y' } });
  t.same((b.sync ? b.evaluateObject(pod) : undefined)!.findings.map((f) => f.message), ['cluster b region y'], 'synchronous');
  host.sent.add(host.nextContext);
  const c = perTurn.forCluster({ name: 'c', labels: { region: 'z' } });
  const answers = await Promise.all([c.evaluateObject(pod), c.evaluateObject(pod), c.evaluateObject(pod)]);
  t.same(answers.map((e) => e.findings.map((f) => f.message)), [['cluster c region z'], ['cluster c region z'], ['cluster c region z']], 'per turn (one call for the turn)');
});
