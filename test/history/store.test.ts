import t, { type Test } from 'tap';
import { openHistory, HistoryError, fingerprint, listRuns, diffRuns, trend, resolveRun } from '../../history/index.js';
import { clusterTimeline, findingTimeline } from '../../history/queries.js';
import { openStore } from '../../history/store.js';
import type { ClusterReport, FleetReport } from '../../scanner/scan.js';
import type { Finding } from '../../src/index.js';
import { tempDir } from '../helpers/cli.js';
import { startPostgres } from '../helpers/postgres.js';

/** The same store behaviour, checked on the embedded SQLite file and on a real PostgreSQL server. */

function finding(policy: string, name: string, path = '$.spec', severity: Finding['severity'] = 'high'): Finding {
  return { policy, severity, action: 'deny', message: `${policy} failed on ${name}`, resource: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name }, path };
}

function cluster(name: string, over: Partial<ClusterReport> = {}): ClusterReport {
  return {
    name,
    index: 0,
    labels: { region: name.startsWith('p') ? 'europe' : 'apac', cohort: '1' },
    status: 'ok',
    score: 90,
    layers: ['base'],
    desired: 10,
    inSync: 9,
    objects: 20,
    totalWeight: 100,
    passedWeight: 90,
    drift: [],
    findings: [],
    policies: {},
    waived: 0,
    warnings: [],
    ...over,
  };
}

function fleet(clusters: ClusterReport[], shard?: { index: number; count: number }): FleetReport {
  return { score: null, fleet: 'fleet.yaml', ...(shard ? { shard } : {}), summary: { clusters: clusters.length, scored: 0, unreachable: 0, error: 0 }, clusters };
}

const day = (n: number) => new Date(Date.UTC(2026, 10, 1 + n, 2, 0, 0));

async function behaviour(t: Test, url: string) {
  const h = await openHistory(url);
  t.teardown(() => h.close());
  const drift = { resource: { apiVersion: 'v1', kind: 'ResourceQuota', namespace: 'shop', name: 'tenant-quota' }, state: 'modified' as const, diffs: [{ path: '$.spec.hard.pods', desired: '40', live: '30' }] };
  await h.recordRun(
    fleet([cluster('par01', { findings: [finding('pss.a', 'web'), finding('pss.b', 'web')], drift: [drift] }), cluster('sin01', { score: 80, findings: [finding('pss.a', 'api')] }), cluster('syd01')]),
    { commit: 'c1', time: day(0), runId: 'run-1' },
  );
  await h.recordRun(
    fleet([
      cluster('par01', { score: 95, findings: [finding('pss.a', 'web'), finding('pss.c', 'web', '$.spec.x', 'critical')] }),
      cluster('sin01', { status: 'unreachable', score: null, error: 'connect ECONNREFUSED 10.0.0.1:443' }),
      cluster('syd01', { score: 70 }),
    ]),
    { commit: 'c2', time: day(1), runId: 'run-2' },
  );
  const runs = await listRuns(h.store);
  t.same(runs.map((r) => [r.run, r.commit, r.score, r.clusters, r.scored]), [['run-1', 'c1', 86.7, 3, 3], ['run-2', 'c2', 82.5, 3, 2]], 'runs with commit and fleet score');

  const d = await diffRuns(h.store, runs[0], runs[1]);
  t.same(d.newFindings.map((f) => [f.cluster, f.policy, f.severity]), [['par01', 'pss.c', 'critical']], 'new finding');
  t.same(d.resolvedFindings.map((f) => [f.cluster, f.policy]), [['par01', 'pss.b']], 'resolved finding; the unreachable cluster does not count as resolved');
  t.same(d.fixedDrift.map((x) => [x.cluster, x.resource, x.state]), [['par01', 'ResourceQuota shop/tenant-quota', 'modified']], 'fixed drift');
  t.same(d.statusChanges, [{ cluster: 'sin01', from: 'ok', to: 'unreachable', reason: 'connect ECONNREFUSED 10.0.0.1:443' }], 'status change with its reason');
  t.same(d.scoreChanges.map((s) => [s.cluster, s.from, s.to]), [['syd01', 90, 70], ['par01', 90, 95]], 'score changes, largest drop first');

  const fp = fingerprint('par01', finding('pss.a', 'web'));
  t.equal(fp, fingerprint('par01', { ...finding('pss.a', 'web'), resource: { ...finding('pss.a', 'web').resource, apiVersion: 'apps/v1beta2' } }), 'fingerprint ignores the API version');
  t.not(fp, fingerprint('sin01', finding('pss.a', 'web')), 'fingerprint includes the cluster');
  const ft = await findingTimeline(h.store, fp.slice(0, 8));
  t.same([ft.open, ft.timeline.map((x) => x.state)], [true, ['present', 'present']], 'finding timeline by fingerprint prefix');
  const gone = await findingTimeline(h.store, fingerprint('par01', finding('pss.b', 'web')));
  t.same([gone.open, gone.timeline.map((x) => x.state)], [false, ['present', 'absent']], 'resolved finding timeline');
  const ct = await clusterTimeline(h.store, 'par01');
  t.same(ct.timeline.map((x) => [x.score, x.findings, x.newFindings, x.resolvedFindings]), [[90, 2, 0, 0], [95, 2, 1, 1]], 'cluster timeline');

  const tr = await trend(h.store, { by: ['region'] });
  t.same(tr.by.region, [{ name: 'apac', scores: [85, 70] }, { name: 'europe', scores: [90, 95] }], 'trend by region');
  t.same(tr.clusters.find((c) => c.name === 'sin01')?.scores, [80, null], 'an unscored run is a gap in the series');

  // Shards of one run write to the same store and join by run id; writing a shard again replaces it.
  await h.recordRun(fleet([cluster('par01', { findings: [finding('pss.a', 'web')] })], { index: 0, count: 2 }), { commit: 'c3', time: day(2), runId: 'nightly-3' });
  await h.recordRun(fleet([cluster('sin01')], { index: 1, count: 2 }), { commit: 'c3', time: day(2), runId: 'nightly-3' });
  await h.recordRun(fleet([cluster('par01', { score: 99, findings: [finding('pss.z', 'web')] })], { index: 0, count: 2 }), { commit: 'c3', time: day(2), runId: 'nightly-3' });
  const sharded = await resolveRun(h.store, 'nightly-3');
  t.same([sharded.clusters, sharded.shards, sharded.shardsDone, sharded.score], [2, 2, 2, 94.5], 'two shards, one run; the retried shard replaced its first write');
  const third = await diffRuns(h.store, runs[1], sharded);
  t.same(third.newFindings.map((f) => f.policy), ['pss.z'], 'the replaced shard kept only its second write');

  // An interrupted write leaves no half run: a cluster twice in one report fails after the run row was written.
  const before = (await listRuns(h.store)).length;
  await t.rejects(h.recordRun(fleet([cluster('dup01', { findings: [finding('x', 'y')] }), cluster('dup01')]), { time: day(3), runId: 'broken' }), HistoryError);
  t.equal((await listRuns(h.store)).length, before, 'no half run after a failed write');
  await t.rejects(findingTimeline(h.store, fingerprint('dup01', finding('x', 'y'))), /no finding/, 'nothing of the failed run is stored');

  // Retention: runs older than the window go, with the findings no run refers to any more.
  await h.recordRun(fleet([cluster('par01')]), { time: day(40), runId: 'later', keepMs: 30 * 86400e3 });
  t.same((await listRuns(h.store)).map((r) => r.run), ['later'], 'retention deleted the old runs');
  await t.rejects(findingTimeline(h.store, fp), /no finding/, 'and their findings');
}

async function newerSchema(t: Test, url: string) {
  const s = await openStore(url);
  await s.db.updateTable('meta').set({ value: '99' }).where('key', '=', 'schema_version').execute();
  await s.close();
  const err = await openHistory(url).then(() => null, (e) => e);
  t.type(err, HistoryError);
  t.equal(err.kind, 'newer-schema');
  t.match(err.message, /schema version 99, newer than this fleetgate knows \(4\): upgrade fleetgate/);
}

t.test('embedded store (SQLite file)', async (t) => {
  const dir = await tempDir(t, 'fleetgate-history-');
  await t.test('behaviour', (t) => behaviour(t, `${dir}/history.db`));
  await t.test('newer schema is refused', (t) => newerSchema(t, `${dir}/newer.db`));
  await t.test('migrations apply once: reopening keeps the data', async (t) => {
    const h = await openHistory(`${dir}/again.db`);
    await h.recordRun(fleet([cluster('par01')]), { runId: 'one' });
    await h.close();
    const h2 = await openHistory(`${dir}/again.db`);
    t.same((await listRuns(h2.store)).map((r) => r.run), ['one']);
    await h2.close();
  });
  await t.test('a file that is not a store is refused as corrupted, and left as it was', async (t) => {
    const { writeFile, readFile } = await import('node:fs/promises');
    await writeFile(`${dir}/junk.db`, 'this is not a database\n'.repeat(100));
    const err = await openHistory(`${dir}/junk.db`).then(() => null, (e) => e);
    t.equal(err?.kind, 'corrupt');
    t.match(err.message, /is corrupted/);
    t.equal(await readFile(`${dir}/junk.db`, 'utf8'), 'this is not a database\n'.repeat(100), 'not overwritten');
  });
  await t.test('a damaged page is detected, not read silently', async (t) => {
    const { open } = await import('node:fs/promises');
    const file = `${dir}/damaged.db`;
    const h = await openHistory(file);
    for (let i = 0; i < 5; i++) await h.recordRun(fleet(Array.from({ length: 50 }, (_, k) => cluster(`c${k}`, { findings: [finding('p', `w${k}-${i}`)] }))), { runId: `r${i}` });
    await h.close();
    const { default: Db } = await import('better-sqlite3');
    new Db(file).pragma('wal_checkpoint(TRUNCATE)');
    const fh = await open(file, 'r+');
    const size = (await fh.stat()).size;
    for (let off = 4096 * 2; off < size; off += 4096) await fh.write(Buffer.alloc(200, 0xab), 0, 200, off + 100);
    await fh.close();
    const err = await (async () => {
      const h2 = await openHistory(file);
      try {
        await listRuns(h2.store);
        await trend(h2.store);
      } finally {
        await h2.close();
      }
    })().then(() => null, (e) => e);
    t.equal(err?.kind, 'corrupt', String(err?.message));
  });
  await t.test('a store locked by another writer: clear error, nothing half written', async (t) => {
    const file = `${dir}/locked.db`;
    (await openHistory(file)).close();
    const { default: Db } = await import('better-sqlite3');
    const other = new Db(file);
    other.exec('BEGIN IMMEDIATE');
    t.teardown(() => other.close());
    const h = await openHistory(file, { busyTimeoutMs: 100 }).catch((e) => e);
    const err = h instanceof HistoryError ? h : await h.recordRun(fleet([cluster('par01')]), { runId: 'x' }).then(() => null, (e: unknown) => e);
    t.equal((err as HistoryError)?.kind, 'locked', String((err as Error)?.message));
    t.match((err as Error).message, /is locked by another writer/);
    other.exec('ROLLBACK');
    if (!(h instanceof HistoryError)) await h.close();
  });
  await t.test('a full store: clear error', async (t) => {
    const file = `${dir}/full.db`;
    const h = await openHistory(file);
    // SQLite's own limit on the file's pages: the store fills up as a full disk would fill it.
    const { sql } = await import('kysely');
    await sql`PRAGMA max_page_count = 40`.execute(h.store.db);
    const many = Array.from({ length: 300 }, (_, k) => cluster(`c${k}`, { findings: Array.from({ length: 20 }, (_, j) => finding(`p${j}`, `w${k}`)) }));
    const err = await h.recordRun(fleet(many), { runId: 'big' }).then(() => null, (e) => e);
    t.equal(err?.kind, 'full', String(err?.message));
    t.same(await listRuns(h.store), [], 'no half run');
    await h.close();
  });
  await t.test('a folder that does not exist is unreachable', async (t) => {
    const err = await openHistory(`${dir}/no/such/folder/h.db`).then(() => null, (e) => e);
    t.equal(err?.kind, 'unreachable');
  });
});

t.test('PostgreSQL store (a real server)', async (t) => {
  const pg = await startPostgres(t);
  await t.test('behaviour', (t) => behaviour(t, pg.newDatabase('behaviour')));
  await t.test('newer schema is refused', (t) => newerSchema(t, pg.newDatabase('newer')));
  await t.test('shards opening a new store at once migrate it once', async (t) => {
    const url = pg.newDatabase('race');
    const stores = await Promise.all([0, 1, 2, 3].map(() => openHistory(url)));
    await Promise.all(stores.map((s, i) => s.recordRun(fleet([cluster(`c${i}`)], { index: i, count: 4 }), { runId: 'together' })));
    t.same((await listRuns(stores[0].store)).map((r) => [r.run, r.clusters, r.shardsDone]), [['together', 4, 4]]);
    await Promise.all(stores.map((s) => s.close()));
  });
  await t.test('an unreachable server: clear error without the password', async (t) => {
    const err = await openHistory('postgres://fleet:s3cret-pw@127.0.0.1:1/history').then(() => null, (e) => e);
    t.equal(err?.kind, 'unreachable', String(err?.message));
    t.match(err.message, /cannot be reached/);
    t.notMatch(err.message, /s3cret-pw/, 'password redacted');
  });
});
