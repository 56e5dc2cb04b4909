import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listRuns } from '../../history/queries.js';
import { openStore } from '../../history/store.js';
import { builtinPolicies } from '../../policies/index.js';
import { runScan } from '../../scanner/cli.js';
import type { FleetReport } from '../../scanner/scan.js';

/** `scan merge --history FILE`: the merged run goes into the store (one run, every cluster), like a scan's. */

const FLEET = 'examples/fleet/fleet.yaml';

t.test('scan merge with --history writes one run with every shard\'s clusters to a SQLite store', async (t) => {
  const dir = t.testdir();
  const run = (args: string[]) => runScan(args, { builtins: builtinPolicies, stderr: () => {} });
  const shards = [0, 1].map((i) => join(dir, `shard-${i}.json`));
  for (const [i, f] of shards.entries()) t.equal(await run(['--fleet', FLEET, '--shard', `${i}/2`, '--format', 'json', '--output', f]), 0);
  const full = join(dir, 'full.json');
  t.equal(await run(['--fleet', FLEET, '--format', 'json', '--output', full]), 0);
  const db = join(dir, 'history.db');
  const merged = join(dir, 'merged.json');
  t.equal(await run(['merge', ...shards, '--history', db, '--run-id', 'nightly-1', '--format', 'json', '--output', merged]), 0);

  const report = JSON.parse(await readFile(merged, 'utf8')) as FleetReport;
  t.same(report, JSON.parse(await readFile(full, 'utf8')), 'the merged report is the unsharded one');
  const store = await openStore(db, { mustExist: true });
  t.teardown(() => store.close());
  const runs = await listRuns(store);
  t.equal(runs.length, 1, 'one run');
  t.equal(runs[0].run, 'nightly-1');
  t.equal(runs[0].clusters, report.clusters.length, 'every cluster of both shards');
  t.equal(runs[0].shards, 1, 'recorded as one (merged) run');
  t.equal(runs[0].score, report.score, 'the run\'s score is the merged report\'s');
  const rows = await store.db.selectFrom('run_clusters').select(['cluster', 'findings']).execute();
  t.same(
    Object.fromEntries(rows.map((r) => [r.cluster, r.findings])),
    Object.fromEntries(report.clusters.map((c) => [c.name, c.findings.length])),
    'per cluster, the findings of the merged report (fleet rules included)',
  );
});

t.test('scan merge: --history-keep without --history is a usage error', async (t) => {
  await t.rejects(runScan(['merge', 'x.json', '--history-keep', '9d']), /--history-keep and --run-id need --history URL/);
});
