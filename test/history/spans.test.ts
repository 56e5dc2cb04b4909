import t, { type Test } from 'tap';
import { diffRuns, fingerprint, HistoryError, listRuns, openHistory } from '../../history/index.js';
import { findingTimeline } from '../../history/queries.js';
import type { ClusterReport, FleetReport } from '../../scanner/scan.js';
import type { Finding } from '../../src/index.js';
import { tempDir } from '../helpers/cli.js';
import { startPostgres } from '../helpers/postgres.js';

/** Presence spans as runs move them: unchanged findings write nothing, shards close only their clusters' spans, retention trims. */

function finding(policy: string, name: string): Finding {
  return { policy, severity: 'high', action: 'deny', message: `${policy} failed on ${name}`, resource: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name }, path: '$.spec' };
}

function cluster(name: string, findings: Finding[], over: Partial<ClusterReport> = {}): ClusterReport {
  return {
    ...{ name, index: 0, labels: {}, status: 'ok', score: 90, layers: [], desired: 1, inSync: 1, objects: 1, totalWeight: 1, passedWeight: 1 },
    ...{ drift: [], findings, policies: {}, waived: 0, warnings: [], ...over },
  };
}

const report = (clusters: ClusterReport[], shard?: { index: number; count: number }): FleetReport => ({
  score: null,
  fleet: 'fleet.yaml',
  ...(shard ? { shard } : {}),
  summary: { clusters: clusters.length, scored: 0, unreachable: 0, error: 0 },
  clusters,
});
const day = (n: number) => new Date(Date.UTC(2026, 10, 1 + n, 2));

async function spans(t: Test, url: string) {
  const h = await openHistory(url);
  t.teardown(() => h.close());
  const rows = () => h.store.db.selectFrom('finding_spans').select(['key', 'cluster', 'start_run', 'end_run']).orderBy('cluster').orderBy('start_run').execute();
  const a = finding('p.a', 'web');
  const b = finding('p.b', 'api');
  await h.recordRun(report([cluster('par01', [a]), cluster('sin01', [b])]), { time: day(0), runId: 'r1' });
  await h.recordRun(report([cluster('par01', [a]), cluster('sin01', [b])]), { time: day(1), runId: 'r2' });
  t.same((await rows()).map((r) => [r.cluster, r.end_run]), [['par01', null], ['sin01', null]], 'a run that sees the same findings writes no span');

  // A shard covering par01 only: sin01's span is not closed by it.
  await h.recordRun(report([cluster('par01', [])], { index: 0, count: 2 }), { time: day(2), runId: 'r3' });
  const runs = await listRuns(h.store);
  const r3 = runs[2].id;
  t.same((await rows()).map((r) => [r.cluster, r.end_run]), [['par01', r3], ['sin01', null]], 'the shard closed only the span of the cluster it scanned');
  const d = await diffRuns(h.store, runs[1], runs[2]);
  t.same([d.resolvedFindings.map((f) => f.cluster), d.statusChanges.map((s) => [s.cluster, s.to])], [['par01'], [['sin01', null]]], 'diff: resolved on par01, sin01 missing from the run');

  // An older run written after a later one would move spans backwards: refused, nothing written.
  const err = await h.recordRun(report([cluster('par01', [a])]), { time: day(1), runId: 'late' }).then(() => null, (e) => e);
  t.type(err, HistoryError);
  t.match(err.message, /already recorded in the later run r3/);
  t.same((await listRuns(h.store)).map((r) => r.run), ['r1', 'r2', 'r3'], 'no half run');

  // The other shard of r3 comes in: sin01's span stays open across runs of the other shard.
  await h.recordRun(report([cluster('sin01', [b])], { index: 1, count: 2 }), { time: day(2), runId: 'r3' });
  t.same((await findingTimeline(h.store, fingerprint('sin01', b))).timeline.map((x) => x.state), ['present', 'present', 'present'], 'one span over three runs');

  // Retention: spans that ended before the first kept run go, with their facts; open ones stay.
  await h.recordRun(report([cluster('par01', []), cluster('sin01', [b])]), { time: day(10), runId: 'r4', keepMs: 5 * 86400e3 });
  t.same((await listRuns(h.store)).map((r) => r.run), ['r4']);
  t.same((await rows()).map((r) => r.cluster), ['sin01'], 'the closed span of par01 went; the open one of sin01 stays');
  await t.rejects(findingTimeline(h.store, fingerprint('par01', a)), /no finding/, 'and the facts of the finding no run sees');
  t.same((await findingTimeline(h.store, fingerprint('sin01', b))).timeline.map((x) => x.state), ['present'], 'the kept finding reads on the kept run');
}

/**
 * `diff` of every pair of runs, either way round, against what the reports themselves say: findings that come and
 * go between the two runs, leave and come back, appear late or go early, and an action that changed on the way.
 */
async function diffsOfEveryPair(t: Test, url: string) {
  const h = await openHistory(url);
  t.teardown(() => h.close());
  // presence per run (1 = present with action deny, 2 = present with action warn, 0 = absent), six runs
  const patterns: Record<string, number[]> = {
    always: [1, 1, 1, 1, 1, 1],
    early: [1, 1, 0, 0, 0, 0],
    late: [0, 0, 0, 1, 1, 1],
    between: [0, 1, 1, 0, 0, 0],
    gap: [1, 0, 1, 0, 0, 1],
    flicker: [1, 0, 1, 0, 1, 0],
    rewarded: [1, 1, 2, 2, 1, 1],
  };
  const at = (run: number) =>
    Object.entries(patterns)
      .filter(([, p]) => p[run] > 0)
      .map(([name, p]) => ({ ...finding('p.x', name), action: p[run] === 1 ? ('deny' as const) : ('warn' as const) }));
  for (let r = 0; r < 6; r++) await h.recordRun(report([cluster('par01', at(r))]), { time: day(r), runId: `r${r}` });
  const runs = await listRuns(h.store);
  const keyOf = (f: { resource: string | { name?: string }; action: string }) => `${typeof f.resource === 'string' ? f.resource.split('/').at(-1) : f.resource.name}:${f.action}`;
  const seen = (run: number) => new Set(at(run).map(keyOf));
  for (let a = 0; a < 6; a++)
    for (let b = 0; b < 6; b++) {
      if (a === b) continue;
      const d = await diffRuns(h.store, runs[a], runs[b]);
      const [inA, inB] = [seen(a), seen(b)];
      const only = (x: Set<string>, y: Set<string>) => [...x].filter((k) => !y.has(k.replace(/:.*/, ':deny')) && !y.has(k.replace(/:.*/, ':warn'))).sort();
      t.same([d.newFindings.map(keyOf).sort(), d.resolvedFindings.map(keyOf).sort()], [only(inB, inA), only(inA, inB)], `diff r${a} r${b}`);
    }
}

t.test('embedded store (SQLite file)', async (t) => {
  const dir = await tempDir(t, 'fleetgate-history-spans-');
  await spans(t, `${dir}/h.db`);
  await t.test('diff of every pair of runs', (t) => diffsOfEveryPair(t, `${dir}/pairs.db`));
});

t.test('PostgreSQL store (a real server)', async (t) => {
  const pg = await startPostgres(t);
  await spans(t, pg.newDatabase('spans'));
  await t.test('diff of every pair of runs', (t) => diffsOfEveryPair(t, pg.newDatabase('pairs')));
});
