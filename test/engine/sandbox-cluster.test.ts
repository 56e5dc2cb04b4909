// The cluster context crosses into the isolate once per engine (as its JSON key), not with every job: user
// policies still see the context of the evaluator that called them, however the calls interleave.
import t from 'tap';
import { createEvaluator, loadUserPolicies } from '../../src/engine/index.js';

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
