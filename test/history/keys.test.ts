import t, { type Test } from 'tap';
import { diffRuns, fingerprint, listRuns, openHistory } from '../../history/index.js';
import { readCollisions, storeFacts, type Fact } from '../../history/facts.js';
import { findingKey, findingKeyOf, KEY_SPACE, resourceKey } from '../../history/keys.js';
import { findingTimeline } from '../../history/queries.js';
import type { ClusterReport, FleetReport } from '../../scanner/scan.js';
import type { Finding } from '../../src/index.js';
import { tempDir } from '../helpers/cli.js';
import { startPostgres } from '../helpers/postgres.js';

/**
 * Schema 4 keys findings by a 51-bit hash (keys.ts findingKey). Two findings with the same hash are told apart
 * field by field: the second gets the next free key, recorded in key_collisions, and is found under it by later runs.
 */

const a: Finding = { policy: 'p.a', severity: 'high', action: 'deny', message: 'p.a failed on web', resource: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web' }, path: '$.spec' };

function cluster(name: string, findings: Finding[]): ClusterReport {
  return {
    ...{ name, index: 0, labels: {}, status: 'ok', score: 90, layers: [], desired: 1, inSync: 1, objects: 1, totalWeight: 1, passedWeight: 1 },
    ...{ drift: [], findings, policies: {}, waived: 0, warnings: [] },
  };
}
const report = (clusters: ClusterReport[]): FleetReport => ({ score: null, fleet: 'fleet.yaml', summary: { clusters: clusters.length, scored: 0, unreachable: 0, error: 0 }, clusters });
const day = (n: number) => new Date(Date.UTC(2026, 10, 1 + n, 2));

t.test('the key: 51 bits, stable, of the identity the fingerprint hashes', async (t) => {
  const k = findingKey('par01', 'p.a', 'core/Pod/shop/web', '$.spec');
  t.ok(Number.isSafeInteger(k) && k >= 0 && k < KEY_SPACE, 'below 2^51');
  t.equal(findingKey('par01', 'p.a', 'core/Pod/shop/web', '$.spec'), k, 'the same every time');
  const others = [findingKey('par02', 'p.a', 'core/Pod/shop/web', '$.spec'), findingKey('par01', 'p.b', 'core/Pod/shop/web', '$.spec'), findingKey('par01', 'p.a', 'core/Pod/shop/api', '$.spec'), findingKey('par01', 'p.a', 'core/Pod/shop/web', '$.meta')];
  t.equal(new Set([k, ...others]).size, 5, 'each field counts');
  // Part boundaries count too: ("ab", "c") is not ("a", "bc").
  t.not(findingKey('x', 'ab', 'c', 'd'), findingKey('x', 'a', 'bc', 'd'));
  const refs = [a.resource, { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' }, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'admin' }, { apiVersion: '', kind: 'X', name: 'y' }];
  for (const resource of refs) t.equal(findingKeyOf('par01', { ...a, resource }), findingKey('par01', a.policy, resourceKey(resource), a.path), `findingKeyOf reads the resource key of ${resourceKey(resource)} from the reference`);
  t.equal(findingKeyOf('par01', { ...a, resource: { ...a.resource, apiVersion: 'v2' } }), findingKeyOf('par01', a), 'the API version is left out, as in fingerprints');
});

async function collisions(t: Test, url: string) {
  const h = await openHistory(url);
  t.teardown(() => h.close());
  const raw = h.store.sqlite;
  const hash = findingKey('par01', a.policy, resourceKey(a.resource), a.path);

  // storeFacts on its own: two different findings with one hash in one call.
  const fact = (cluster: string, policy: string): Fact => ({ hash: 12345, cluster, policy, severity: 'low', resource: 'core/Pod/x/y', path: '$', message: 'm' });
  const moved = new Map<number, number[]>();
  await h.store.db.transaction().execute(async (trx) => {
    t.same(await storeFacts(raw, trx, [fact('c1', 'p.x'), fact('c2', 'p.x'), fact('c1', 'p.x')], moved), [12345, 12346, 12345], 'the second finding moved to the next key; the first again keeps its own');
    t.same(await storeFacts(raw, trx, [fact('c2', 'p.x'), fact('c3', 'p.x')], moved), [12346, 12347], 'a moved finding is found again; a third one moves further');
    t.same([...(await readCollisions(trx))], [[12345, [12346, 12347]]], 'the moves are recorded');
  });

  // A finding already holds the key par01's p.a will hash to: par01's finding is moved, and found there by every run.
  await h.store.db.insertInto('findings').values({ key: hash, fingerprint: 'ffffffffffffffff', cluster: 'zz99', policy: 'p.z', severity: 'low', resource: 'core/Pod/z/z', path: '$', message: 'other' }).execute();
  for (const [n, findings] of [[a], [a], [], [a]].entries()) await h.recordRun(report([cluster('par01', findings)]), { time: day(n), runId: `r${n + 1}` });
  const spans = await h.store.db.selectFrom('finding_spans').select(['key', 'start_run', 'end_run']).where('cluster', '=', 'par01').orderBy('start_run').execute();
  const runs = await listRuns(h.store);
  t.same(
    spans.map((s) => [s.key, s.start_run, s.end_run]),
    [
      [hash + 1, runs[0].id, runs[2].id],
      [hash + 1, runs[3].id, null],
    ],
    'one span per presence under the moved key: seen again in r2, not reopened',
  );
  const d = await Promise.all([[0, 1], [1, 2], [2, 3]].map(([x, y]) => diffRuns(h.store, runs[x], runs[y])));
  t.same(d.map((x) => [x.newFindings.map((f) => f.fingerprint), x.resolvedFindings.map((f) => f.policy)]), [[[], []], [[], ['p.a']], [[fingerprint('par01', a)], []]], 'diffs name the moved finding by its fingerprint');
  t.same((await findingTimeline(h.store, fingerprint('par01', a))).timeline.map((x) => x.state), ['present', 'present', 'absent', 'present'], 'its timeline');
  t.equal((await findingTimeline(h.store, 'ffffffffffffffff')).finding.cluster, 'zz99', 'the finding that had the key keeps it');
}

t.test('collisions, embedded store', async (t) => {
  const dir = await tempDir(t, 'fleetgate-history-keys-');
  await collisions(t, `${dir}/h.db`);
});

t.test('collisions, PostgreSQL store', async (t) => {
  const pg = await startPostgres(t);
  await collisions(t, pg.newDatabase('keys'));
});
