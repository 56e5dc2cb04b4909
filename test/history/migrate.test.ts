import t, { type Test } from 'tap';
import { diffRuns, fingerprint, listRuns, openHistory, type History } from '../../history/index.js';
import { findingKey } from '../../history/keys.js';
import { clusterTimeline, findingTimeline } from '../../history/queries.js';
import type { ClusterReport, FleetReport } from '../../scanner/scan.js';
import type { Finding } from '../../src/index.js';
import { tempDir } from '../helpers/cli.js';
import { startPostgres } from '../helpers/postgres.js';
import { writeOldStore, type OldRun } from './old-store.js';

/**
 * Migration 3 (per-run fingerprint lists → presence spans) on a store that release 2 wrote, and migration 4 (spans
 * and facts by a 51-bit integer key) on a store at schema 3: the same answers as a store today's fleetgate wrote
 * from the same scans, and new runs written on top of the migrated store.
 */

function finding(policy: string, name: string, action: Finding['action'] = 'deny', severity: Finding['severity'] = 'high'): Finding {
  return { policy, severity, action, message: `${policy} failed on ${name}`, resource: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name }, path: '$.spec' };
}

function cluster(name: string, over: Partial<ClusterReport> = {}): ClusterReport {
  return {
    ...{ name, index: 0, labels: { region: 'europe' }, status: 'ok', score: 90, objectScore: 80, layers: ['base'], desired: 10, inSync: 9, objects: 20, totalWeight: 100, passedWeight: 90 },
    ...{ drift: [], findings: [], policies: {}, waived: 0, warnings: [] },
    ...over,
  };
}

const day = (n: number) => new Date(Date.UTC(2026, 10, 1 + n, 2));
const drift = { resource: { apiVersion: 'v1', kind: 'ResourceQuota', namespace: 'shop', name: 'q' }, state: 'modified' as const, diffs: [{ path: '$.spec.hard.pods', desired: '40', live: '30' }] };

/** Three runs: a finding resolved, one new, a cluster unreachable in between, an action changed (deny → warn). */
const RUNS: OldRun[] = [
  { id: 'run-1', time: day(0), commit: 'c1', clusters: [cluster('par01', { findings: [finding('pss.a', 'web'), finding('pss.b', 'web')], drift: [drift] }), cluster('sin01', { findings: [finding('pss.a', 'api')] }), cluster('syd01')] },
  {
    id: 'run-2',
    time: day(1),
    commit: 'c2',
    clusters: [cluster('par01', { score: 95, findings: [finding('pss.a', 'web'), finding('pss.c', 'web', 'deny', 'critical')] }), cluster('sin01', { status: 'unreachable', score: null, error: 'connect ECONNREFUSED' }), cluster('syd01', { score: 70 })],
  },
  { id: 'run-3', time: day(2), commit: 'c3', clusters: [cluster('par01', { findings: [finding('pss.a', 'web', 'warn'), finding('pss.c', 'web', 'deny', 'critical')] }), cluster('sin01'), cluster('syd01', { findings: [finding('pss.d', 'db')] })] },
];

const report = (clusters: ClusterReport[]): FleetReport => ({ score: null, fleet: 'fleet.yaml', summary: { clusters: clusters.length, scored: 0, unreachable: 0, error: 0 }, clusters });

/** Every answer about findings the store gives over the three runs (and a fourth written after the migration). */
async function answers(h: History) {
  const runs = await listRuns(h.store);
  const diffs = [];
  for (const [a, b] of [[0, 1], [1, 2], [0, 2], [2, 0], [2, 3]]) {
    const d = await diffRuns(h.store, runs[a], runs[b]);
    diffs.push({ ...d, from: d.from.run, to: d.to.run });
  }
  const fps = [fingerprint('par01', finding('pss.a', 'web')), fingerprint('par01', finding('pss.b', 'web')), fingerprint('sin01', finding('pss.a', 'api')), fingerprint('syd01', finding('pss.d', 'db'))];
  const findings = await Promise.all(fps.map((fp) => findingTimeline(h.store, fp)));
  const clusters = await Promise.all(['par01', 'sin01', 'syd01'].map((c) => clusterTimeline(h.store, c)));
  return { diffs, findings, clusters, runs: runs.map((r) => [r.run, r.score, r.objectScore, r.clusters]) };
}

const fourth = { time: day(3), commit: 'c4', runId: 'run-4' };
const fourthClusters = () => [cluster('par01', { findings: [finding('pss.c', 'web', 'deny', 'critical')] }), cluster('sin01'), cluster('syd01', { findings: [finding('pss.d', 'db')] })];

async function migrated(t: Test, oldUrl: string, newUrl: string, from: 2 | 3) {
  await writeOldStore(oldUrl, from, RUNS);
  const h = await openHistory(oldUrl); // migrates 2 → 3 → 4, or 3 → 4
  t.teardown(() => h.close());
  const version = await h.store.db.selectFrom('meta').select('value').where('key', '=', 'schema_version').executeTakeFirstOrThrow();
  t.equal(version.value, '4', 'migrated to schema 4');
  const columns = (await h.store.db.introspection.getTables()).find((x) => x.name === 'run_clusters')!.columns.map((c) => c.name);
  t.notOk(columns.includes('seen'), 'the per-run fingerprint lists are gone');
  const spanColumns = (await h.store.db.introspection.getTables()).find((x) => x.name === 'finding_spans')!.columns.map((c) => c.name);
  t.same(spanColumns.sort(), ['action', 'cluster', 'end_run', 'key', 'start_run'], 'spans are keyed by the integer key (schema 4)');
  const keyed = await h.store.db.selectFrom('findings').select(['key', 'cluster', 'policy', 'resource', 'path', 'fingerprint']).execute();
  t.equal(keyed.length, 5, 'every finding kept');
  t.ok(keyed.every((f) => f.key === findingKey(f.cluster, f.policy, f.resource, f.path) && f.fingerprint.length === 16), 'each under its hash, with its fingerprint');
  t.same(await h.store.db.selectFrom('key_collisions').selectAll().execute(), [], 'no collision recorded');
  await h.recordRun(report(fourthClusters()), fourth);

  const fresh = await openHistory(newUrl);
  t.teardown(() => fresh.close());
  for (const r of RUNS) await fresh.recordRun(report(r.clusters), { time: r.time, commit: r.commit, runId: r.id });
  await fresh.recordRun(report(fourthClusters()), fourth);

  const got = await answers(h);
  t.same(got, await answers(fresh), 'the migrated store answers as a store written today');
  const [d12, d23, d13] = got.diffs;
  t.same(d12.newFindings.map((f) => [f.cluster, f.policy]), [['par01', 'pss.c']], 'run-1 → run-2: new');
  t.same(d12.resolvedFindings.map((f) => [f.cluster, f.policy]), [['par01', 'pss.b']], 'run-1 → run-2: resolved; the unreachable cluster is not');
  t.same([d23.newFindings.map((f) => f.policy), d23.resolvedFindings.length], [['pss.d'], 0], 'run-2 → run-3: an action change is neither new nor resolved');
  t.same(d13.resolvedFindings.map((f) => [f.cluster, f.policy, f.action]).sort(), [['par01', 'pss.b', 'deny'], ['sin01', 'pss.a', 'deny']], 'run-1 → run-3 across the unreachable run');
  t.same(got.diffs[4].resolvedFindings.map((f) => [f.policy, f.action]), [['pss.a', 'warn']], 'a run written after the migration closes a migrated span, with its last action');
  t.same(got.findings[2].timeline.map((x) => x.state), ['present', 'not scanned', 'absent', 'absent'], 'finding timeline across the unreachable run');
  t.same(got.findings[0].timeline.map((x) => x.action), ['deny', 'deny', 'warn', undefined], 'the action per run');
  t.same(got.clusters[0].timeline.map((x) => [x.findings, x.newFindings, x.resolvedFindings]), [[2, 0, 0], [2, 1, 1], [2, 0, 0], [1, 0, 1]], 'cluster timeline');
}

for (const from of [2, 3] as const) {
  t.test(`embedded store (SQLite file) at schema ${from}`, async (t) => {
    const dir = await tempDir(t, 'fleetgate-history-mig-');
    await migrated(t, `${dir}/old.db`, `${dir}/new.db`, from);
  });

  t.test(`PostgreSQL store at schema ${from}`, async (t) => {
    const pg = await startPostgres(t);
    await migrated(t, pg.newDatabase('old'), pg.newDatabase('fresh'), from);
  });
}
