// Fleet-scope rules over shards: `scan --shard` defers them, `scan merge` judges the whole fleet over the shards'
// indexes as one scan does (findings, unknowns of the unreadable cluster, scores). Split from fleet-rules.test.ts
// (tap's 120 s per file on a loaded machine).
import t from 'tap';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { fleetFindings, makeFleet } from '../helpers/fleet-rules-fleet.js';

t.test('with --shard the fleet rules are deferred, and scan merge judges the whole fleet as one scan does', async (t) => {
  const root = await tempDir(t, 'fleetgate-fleet-');
  const fleet = await makeFleet(root);
  const whole = JSON.parse((await runCli(['scan', '--fleet', fleet, '--format', 'json'])).stdout);
  const files: string[] = [];
  for (const i of [0, 1]) {
    const out = join(root, `shard-${i}.json`);
    const r = await runCli(['scan', '--fleet', fleet, '--shard', `${i}/2`, '--format', 'json', '--output', out]);
    t.equal(r.code, 0, r.stderr);
    files.push(out);
  }
  const merged = await runCli(['scan', 'merge', ...files, '--format', 'json']);
  t.equal(merged.code, 0, merged.stderr);
  const m = JSON.parse(merged.stdout);
  t.same(fleetFindings(m), fleetFindings(whole), 'the same fleet findings');
  t.same(m.fleetRules, whole.fleetRules, 'the same rules and unknowns');
  t.same(m.clusters.map((c: any) => c.score), whole.clusters.map((c: any) => c.score), 'the same scores');
});
