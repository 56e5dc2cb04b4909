import t, { type Test } from 'tap';
import { sql } from 'kysely';
import { openHistory, listRuns, trend } from '../../history/index.js';
import { clusterTimeline } from '../../history/queries.js';
import { SCHEMA_VERSION } from '../../history/schema.js';
import { writeOldStore } from './old-store.js';
import { prettyTrend } from '../../history/format.js';
import type { ClusterReport, FleetReport } from '../../scanner/scan.js';
import { tempDir } from '../helpers/cli.js';
import { startPostgres } from '../helpers/postgres.js';

/** objectScore in the history store: written per cluster, read back by trend and the cluster timeline, on both engines; a store of schema 1 is migrated. */

function cluster(name: string, score: number | null, objectScore: number | null): ClusterReport {
  return {
    name,
    index: 0,
    labels: { region: 'europe' },
    status: score === null ? 'unreachable' : 'ok',
    score,
    objectScore,
    layers: ['base'],
    desired: 1,
    inSync: 1,
    objects: 1,
    totalWeight: 1,
    passedWeight: 1,
    drift: [],
    findings: [],
    policies: {},
    waived: 0,
    warnings: [],
  };
}

const fleet = (clusters: ClusterReport[]): FleetReport => ({ score: null, fleet: 'fleet.yaml', summary: { clusters: clusters.length, scored: 0, unreachable: 0, error: 0 }, clusters });
const day = (n: number) => new Date(Date.UTC(2026, 0, 1 + n));
const plain = (_: string, s: string) => s;

async function objectScores(t: Test, url: string) {
  // A store as the release before objectScore left it: schema 1, no object_score column, one run.
  await writeOldStore(url, 1, [{ id: 'before', time: day(0), commit: 'c0', clusters: [cluster('par01', 99.1, null), cluster('fra01', 99.0, null)] }]);

  const h = await openHistory(url); // migrates 1 → 2 → 3
  const version = await h.store.db.selectFrom('meta').select('value').where('key', '=', 'schema_version').executeTakeFirstOrThrow();
  t.equal(version.value, String(SCHEMA_VERSION), 'migrated to the latest schema');
  await h.recordRun(fleet([cluster('par01', 99.2, 81.5), cluster('fra01', 99.1, 0), cluster('ams01', null, null)]), { time: day(1), runId: 'after' });

  const runs = await listRuns(h.store);
  t.same(runs.map((r) => [r.run, r.score, r.objectScore]), [['before', 99.1, null], ['after', 99.2, 40.8]], 'fleet objectScore: mean of the scored clusters; none before the migration');
  const tr = await trend(h.store, { by: ['region'] });
  t.same(tr.clusters.find((c) => c.name === 'fra01')?.scores, [99, 99.1], 'score series as before');
  t.same(tr.objects.clusters.find((c) => c.name === 'fra01')?.scores, [null, 0], 'objectScore series: a gap before the migration');
  t.same(tr.objects.by.region, [{ name: 'europe', scores: [null, 40.8] }], 'objectScore by region');
  const text = prettyTrend(tr, plain);
  t.match(text, /fleet .*99\.1 → 99\.2 .*objects .*— → 40\.8/, 'trend shows both fleet scores');
  t.match(text, /worst 3 of 3 by the latest object score\n  ams01 .*—\n  fra01 .*objects .*0\.0 \(0% pass\)\n  par01/, 'unscored first, then worst by object score; 0% pass marked');
  const ct = await clusterTimeline(h.store, 'par01');
  t.same(ct.timeline.map((x) => [x.score, x.objectScore]), [[99.1, null], [99.2, 81.5]], 'cluster timeline carries both');
  const stored = await sql<{ n: number }>`select count(*) as n from run_clusters where object_score is not null`.execute(h.store.db);
  t.equal(Number(stored.rows[0].n), 2, 'one stored objectScore per scored cluster of the new run');
  await h.close();
}

t.test('embedded store (SQLite file)', async (t) => {
  const dir = await tempDir(t, 'fleetgate-history-os-');
  await objectScores(t, `${dir}/history.db`);
});

t.test('PostgreSQL store (a real server)', async (t) => {
  const pg = await startPostgres(t);
  await objectScores(t, pg.newDatabase('objects'));
});
