import t from 'tap';
import { ScoreFactsTable } from '../../scanner/facts.js';
import type { ScoreFacts } from '../../scanner/fleet-rules.js';
import { FleetStore } from '../../scanner/fleet-store.js';
import type { Fleet, FleetCluster } from '../../scanner/fleet.js';
import { DesiredState } from '../../scanner/desired.js';
import { workerFleet } from '../../scanner/scan-pool.js';
import type { ClusterReport } from '../../scanner/scan.js';
import { RecordOffsets, Spool } from '../../scanner/spool.js';

/**
 * What the streamed scan keeps per cluster until the report is written (issue #17: memory that does not grow with
 * the fleet): compact tables that must give back exactly what was put in them.
 */

t.test('score facts read back as they were put: null, absent and numbers kept apart', async (t) => {
  const table = new ScoreFactsTable(1); // grows past its capacity
  const facts: ScoreFacts[] = [
    { name: 'a', status: 'ok', score: 87.3, totalWeight: 120, passedWeight: 104, objectScore: 91.2, objectTotalWeight: 400, objectPassedWeight: 365 },
    { name: 'b', status: 'unreachable', score: null, totalWeight: 0, passedWeight: 0, objectScore: null },
    { name: 'c', status: 'error', score: null, totalWeight: 0, passedWeight: 0 },
    { name: 'd', status: 'ok', score: 100, totalWeight: 0, passedWeight: 0, objectScore: 0, objectTotalWeight: 0, objectPassedWeight: 0 },
  ];
  for (const [i, f] of facts.entries()) table.put(i, f);
  t.same(
    facts.map((_, i) => table.get(i)),
    facts,
  );
  t.strictSame(Object.keys(table.get(2)), ['name', 'status', 'score', 'totalWeight', 'passedWeight'], 'absent stays absent');
  t.equal(table.rescored(0), undefined, 'not rescored yet');
  table.rescore(0, { objectScore: 88.8, objectTotalWeight: 410, objectPassedWeight: 364 });
  t.same(table.rescored(0), { objectScore: 88.8, objectTotalWeight: 410, objectPassedWeight: 364 });
  t.same(table.get(0), { ...facts[0], objectScore: 88.8, objectTotalWeight: 410, objectPassedWeight: 364 }, 'the facts hold the rescored parts');
  table.put(1, facts[1], 'fleet-name');
  t.equal(table.get(1).name, 'fleet-name', 'the name handed in');
});

t.test('record offsets: past 4 GiB, absent keys, rewritten keys', async (t) => {
  const w = new RecordOffsets();
  w.set(0, 0, 10);
  w.set(1000, 5 * 2 ** 30 + 7, 3);
  t.same(w.get(1000), { at: 5 * 2 ** 30 + 7, length: 3 });
  t.equal(w.get(500), undefined);
  t.equal(w.get(-1), undefined);
  t.equal(w.get(5000), undefined);
  w.set(0, 20, 4);
  t.same(w.get(0), { at: 20, length: 4 });
  t.equal(w.count, 2);
  t.throws(() => w.set(1.5, 0, 1), /not a non-negative integer/);
});

t.test('the spool finds records by key in any order', async (t) => {
  const spool = await Spool.create<{ n: number }>();
  t.teardown(() => spool.close());
  await Promise.all([3, 0, 2].map((n) => spool.put(n, { n })));
  t.same(await Promise.all([0, 2, 3].map((n) => spool.get(n))), [{ n: 0 }, { n: 2 }, { n: 3 }]);
  t.equal(spool.count, 3);
  await t.rejects(spool.get(1), /no record 1/);
});

t.test('fleet store members share what clusters share, frozen, and nothing of their own', async (t) => {
  const store = new FleetStore();
  t.teardown(() => store.close());
  const report = (name: string) =>
    ({ name, labels: { region: 'europe' }, status: 'ok', layers: ['base'], fleetIndex: [], fleetActions: { 'fleet.blast-radius': { action: 'warn', from: 'effective' } } }) as unknown as ClusterReport;
  const [a, b] = [store.put(0, report('a')), store.put(1, report('b'))];
  t.equal(a.labels, b.labels, 'one labels object for equal labels');
  t.equal(a.actions, b.actions);
  t.ok(Object.isFrozen(a.labels) && Object.isFrozen(a.layers) && Object.isFrozen(a.actions!['fleet.blast-radius']), 'frozen');
  t.same([a.name, b.name], ['a', 'b']);
  t.notOk('error' in a, 'no error member unless the cluster has one');
  t.equal(store.put(2, { ...report('c'), status: 'error', error: 'boom' } as ClusterReport).error, 'boom');
});

t.test('a worker gets the fleet without its clusters unless a PolicyRollout needs their names and labels', async (t) => {
  const cluster = (name: string): FleetCluster => ({ name, labels: { cohort: '1' }, source: { snapshot: `/snap/${name}` }, index: 0 });
  const fleet = { file: 'f', repo: 'r', layers: [], clusters: [cluster('a'), cluster('b')], owned: [], parameters: {}, actions: {}, overrides: [], timeoutSeconds: 30, allowExecPlugins: [] } as Fleet;
  const layer = (objects: object[]) => new DesiredState([{ layer: { path: 'base', dir: '/repo/base' }, objects: objects as never }]);
  t.same(workerFleet(fleet, { desired: layer([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }]) }).clusters, []);
  const rollout = { apiVersion: 'fleetgate.io/v1alpha1', kind: 'PolicyRollout', metadata: { name: 'r' }, spec: {} };
  t.same(workerFleet(fleet, { desired: layer([rollout]) }).clusters, [
    { name: 'a', labels: { cohort: '1' } },
    { name: 'b', labels: { cohort: '1' } },
  ]);
  t.equal(workerFleet(fleet, { desired: layer([]) }).owned, fleet.owned, 'the rest of the fleet as it is');
});

t.test("the scan bounds V8's heap growth unless the command line set it", async (t) => {
  const { boundHeapGrowth, SCAN_HEAP_GROWING_PERCENT } = await import('../../scanner/heap.js');
  t.equal(SCAN_HEAP_GROWING_PERCENT, 50);
  t.equal(boundHeapGrowth(50, ['--heap-growing-percent=80']), false, 'node --heap-growing-percent=N wins');
  t.equal(boundHeapGrowth(50, ['--heap_growing_percent=80']), false);
  t.equal(boundHeapGrowth(50, ['--max-old-space-size=512']), true, 'set otherwise');
});
