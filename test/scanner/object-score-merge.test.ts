import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FleetReport } from '../../scanner/scan.js';
import { runCli, tempDir } from '../helpers/cli.js';

/**
 * objectScore through shards: fleet-scope rules run in `scan merge`, after the clusters' reports were written, and
 * adjust the object score from the verdicts a shard report keeps for its fleet index. Sharded + merged gives what
 * one whole scan gives, including the cluster a fleet rule reports on.
 */
t.test('scan merge of two shards gives the objectScore of one whole scan', async (t) => {
  const dir = await tempDir(t, 'fleetgate-object-merge-');
  const fleet = 'examples/fleet/fleet.yaml';
  const out = (n: string) => join(dir, n);
  for (const [args, file] of [
    [[], 'all.json'],
    [['--shard', '0/2'], 's0.json'],
    [['--shard', '1/2'], 's1.json'],
  ] as const) {
    const r = await runCli(['scan', '--fleet', fleet, ...args, '--format', 'json', '--output', out(file)]);
    t.equal(r.code, 0, r.stderr);
  }
  const shard = JSON.parse(await readFile(out('s0.json'), 'utf8')) as FleetReport;
  t.ok(shard.clusters.some((c) => c.fleetIndexVerdicts && Object.keys(c.fleetIndexVerdicts).length), 'a shard report keeps its fleet index verdicts');
  const m = await runCli(['scan', 'merge', out('s0.json'), out('s1.json'), '--format', 'json', '--output', out('merged.json')]);
  t.equal(m.code, 0, m.stderr);
  const whole = JSON.parse(await readFile(out('all.json'), 'utf8')) as FleetReport;
  const merged = JSON.parse(await readFile(out('merged.json'), 'utf8')) as FleetReport;
  const fleetFinding = whole.clusters.find((c) => c.findings.some((f) => (f as { cluster?: string }).cluster));
  t.ok(fleetFinding, 'a fleet rule reports on one of the example clusters');
  const pick = (r: FleetReport) => r.clusters.map((c) => [c.name, c.objectScore, c.objectTotalWeight, c.objectPassedWeight, 'fleetIndexVerdicts' in c]);
  t.same(pick(merged), pick(whole), 'per cluster: the same object scores, and no verdicts left in the report');
  t.equal(merged.objectScore, whole.objectScore, 'fleet objectScore');
});
