// A runtime error in a user policy's validate() names the policy's own source file:line (issue 12), mapped back
// from the bundle with its source map: in lint output (the CLI spawned) and in-process. The webhook tells its API
// client only the policy id and a generic text; the file:line goes to its log.
import t from 'tap';
import { join } from 'node:path';
import { builtinPolicies } from '../../policies/index.js';
import { createEvaluator } from '../../src/index.js';
import { loadPolicySet } from '../../src/loading/index.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { hostPidPod, review, startServer } from '../helpers/webhook.js';

const FILE = 'test/fixtures/sandbox/throws/reads-missing.ts';
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [{ name: 'a', image: 'a:1' }] } };
const expected = [
  ['careless.helper-throws', /^policy error: the object has no labels \(at test\/fixtures\/sandbox\/throws\/helper\.ts:3:\d+\)$/],
  ['careless.reads-missing', /^policy error: Cannot read properties of undefined \(reading 'spec'\) \(at test\/fixtures\/sandbox\/throws\/reads-missing\.ts:14:\d+\)$/],
] as const;

t.test('lint: the error finding names the line that threw, in the policy file or in the helper it imports', async (t) => {
  const cache = await tempDir(t, 'fleetgate-errors-');
  for (const run of ['cold', 'warm']) {
    const r = await runCli(['lint', '-', '--format', 'json', '--no-builtins', '--policies', FILE], { input: JSON.stringify(pod), env: { FLEETGATE_CACHE_DIR: join(cache, 'c') } });
    t.equal(r.code, 1, r.stderr);
    const { findings } = JSON.parse(r.stdout) as { findings: { policy: string; message: string; error?: boolean }[] };
    t.equal(findings.length, 2, run);
    for (const [i, [id, message]] of expected.entries()) t.match(findings[i], { policy: id, error: true, message }, `${run} cache: ${id}`);
  }
});

t.test('in-process: the evaluator\'s error finding carries the same file:line', async (t) => {
  const { policies, errors } = await loadPolicySet([FILE], { builtins: [] });
  t.same(errors, []);
  const ev = await createEvaluator(policies);
  t.teardown(() => ev.close());
  if (!ev.sync) throw new Error('expected a synchronous evaluator');
  const findings = ev.evaluateObject(pod).findings.sort((a, b) => (a.policy < b.policy ? -1 : 1));
  for (const [i, [id, message]] of expected.entries()) t.match(findings[i], { policy: id, error: true, message });
});

t.test('serve: the client gets the policy id and a generic text, the log gets the file:line', async (t) => {
  const { policies, errors } = await loadPolicySet([FILE], { builtins: builtinPolicies });
  t.same(errors, []);
  const s = await startServer({ policies, config: { failurePolicy: 'closed' } });
  t.teardown(() => s.close());
  const p = hostPidPod('ok');
  const r = await s.post(review({ ...p, spec: { ...p.spec, hostPID: false } }));
  t.equal(r.json.response.allowed, false, 'failurePolicy closed: the failed deny policy denies');
  const text = JSON.stringify(r.json);
  t.match(text, /careless\.reads-missing/);
  t.notMatch(text, /reads-missing\.ts|helper\.ts|Cannot read properties|no labels/, 'no file, line or thrown text reaches the client');
  t.notMatch(text, new RegExp(process.cwd().replace(/[/.]/g, '\\$&')), 'no host path reaches the client');
  const logged = s.logs.join('\n');
  t.match(logged, /careless\.reads-missing\] policy error: Cannot read properties of undefined \(reading 'spec'\) \(at test\/fixtures\/sandbox\/throws\/reads-missing\.ts:14:\d+\)/);
});
