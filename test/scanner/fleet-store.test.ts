import t from 'tap';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinPolicies } from '../../policies/index.js';
import { DesiredState, loadLayers } from '../../scanner/desired.js';
import { loadFleet } from '../../scanner/fleet.js';
import { FleetStore } from '../../scanner/fleet-store.js';
import { formatJson } from '../../scanner/report.js';
import { scanFleet, type ClusterReport } from '../../scanner/scan.js';
import { streamScan } from '../../scanner/stream.js';
import { writeJson } from '../../scanner/writers.js';
import { generate } from '../../bench/scan.js';

/**
 * The fleet store (scanner/fleet-store.ts): the streamed scan's fleet indexes on disk, read back on demand in the
 * fleet pass through a cache bounded in bytes. The report must not depend on the cache's size.
 */

const service = (name: string, ns = 'shop') => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns } });
function report(name: string, objects: object[], verdicts?: ClusterReport['fleetIndexVerdicts']): ClusterReport {
  return {
    name,
    labels: { region: 'europe' },
    status: 'ok',
    layers: ['base'],
    fleetIndex: objects,
    fleetActions: { 'fleet.blast-radius': { action: 'warn', from: 'effective' } },
    ...(verdicts ? { fleetIndexVerdicts: verdicts } : {}),
  } as unknown as ClusterReport;
}

const storeDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('fleetgate-fleet-'));

t.test('a member reads its objects back; the report goes on without its index', async (t) => {
  const before = storeDirs().length;
  const store = new FleetStore();
  const r = report('c0', [service('a'), service('b')], { 'v1/Service/shop/a': { weight: 5, failed: false } } as never);
  const m = store.put(0, r);
  t.equal(storeDirs().length, before + 1, 'a folder of its own under TMPDIR');
  t.same(m.objects, [service('a'), service('b')]);
  t.equal(m.objects, m.objects, 'the same array while cached (the fleet evaluation indexes it once)');
  t.same({ name: m.name, labels: m.labels, status: m.status, layers: m.layers, actions: m.actions }, { name: 'c0', labels: { region: 'europe' }, status: 'ok', layers: ['base'], actions: { 'fleet.blast-radius': { action: 'warn', from: 'effective' } } });
  t.same(store.verdicts(0), { 'v1/Service/shop/a': { weight: 5, failed: false } });
  t.notOk('fleetIndex' in r || 'fleetActions' in r || 'fleetIndexVerdicts' in r, 'the index, actions and verdicts left the report');
  t.equal(store.put(1, report('c1', [])).objects.length, 0, 'an empty index');
  t.equal(store.verdicts(1), undefined);
  store.close();
  t.equal(storeDirs().length, before, 'close removes the folder');
  t.throws(() => store.objects(5), /no cluster 5/);
});

t.test('a cache smaller than the fleet reads again, and equal objects of different clusters are one object', async (t) => {
  const store = new FleetStore(1);
  const members = Array.from({ length: 5 }, (_, i) => store.put(i, report(`c${i}`, [service('shared'), service(`own-${i}`)])));
  t.same(members.map((m) => m.objects.map((o) => o.metadata?.name)), members.map((_, i) => ['shared', `own-${i}`]));
  const reads = store.reads;
  t.same(members[0].objects[1], service('own-0'));
  t.ok(store.reads > reads, 'evicted: read from disk again');
  t.equal(members[3].objects[0], members[4].objects[0], 'the shared Service is parsed once');
  t.not(members[3].objects[1], members[4].objects[1]);
  store.close();
});

t.test('sweeps over a fleet larger than the cache still hit it (each fleet rule sweeps the clusters in order)', async (t) => {
  const record = JSON.stringify(service('own-0')).length;
  // room for about half of the 10 records: a most-recently-used cache would hit nothing on the next sweep
  const store = new FleetStore(record * 6);
  const members = Array.from({ length: 10 }, (_, i) => store.put(i, report(`c${i}`, [service(`own-${i}`)])));
  for (const m of members) t.equal(m.objects.length, 1);
  t.equal(store.reads, 10, 'the first sweep reads every record');
  for (let sweep = 0; sweep < 3; sweep++) for (const m of members) t.equal(m.objects[0].metadata?.name, `own-${members.indexOf(m)}`);
  t.ok(store.reads < 10 + 3 * 10, `later sweeps find part of the fleet in the cache (${store.reads - 10} reads for 30 lookups)`);
  t.ok(store.reads <= 10 + 3 * 6, 'the records kept for the pass are not read again');
  store.close();
});

t.test('generated fleet (24 clusters, mesh): the report with a one-byte fleet cache is the in-memory one', async (t) => {
  const dir = t.testdir();
  await generate(24, dir);
  const fleet = await loadFleet(join(dir, 'fleet-24.yaml'));
  const layers = await loadLayers(fleet);
  const opts = { policies: builtinPolicies, desired: new DesiredState(layers.layers), concurrency: 3 };
  const expected = formatJson(await scanFleet(fleet, opts));
  const scan = await streamScan(fleet, { ...opts, fleetCacheBytes: 1 });
  let text = '';
  await writeJson({ write: async (s) => void (text += s), done: async () => undefined, abort: async () => undefined }, scan.head, scan.clusters());
  await scan.close();
  t.ok(JSON.parse(text).fleetRules.rules.length, 'fleet rules ran');
  t.equal(text, expected, 'same bytes');
});

// Issue #17: the fleet pass holds what its cache holds, not every cluster's index it has read. Each index the store
// hands out is watched through a WeakRef: once the rules have run, a full collection must have taken all of those
// the cache no longer keeps (the rules, their views, the per-index memos of the mesh rules and the engine's indexes
// hold them weakly or not at all). Structural, not a memory threshold.
t.test('the fleet pass keeps no cluster index past the store cache', async (t) => {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { runFleetRules } = await import('../../scanner/fleet-rules.js');
  const { globalServiceEntry } = await import('../../policies/mesh/federation.js');
  const n = 40;
  const store = new FleetStore(1); // nothing pinned: every sweep reads the indexes again
  t.teardown(() => store.close());
  const handed: WeakRef<object>[] = [];
  const objects = store.objects.bind(store);
  store.objects = (i: number) => {
    const o = objects(i);
    if (!handed.some((w) => w.deref() === o)) handed.push(new WeakRef(o));
    return o;
  };
  const members = Array.from({ length: n }, (_, i) => {
    const peers = [`c${(i + 1) % n}`, ...(i % 10 === 0 ? ['gone'] : [])].map((cluster) => ({ cluster }));
    const objs = [service('payment-service'), ...Array.from({ length: 20 }, (_, k) => service(`own-${i}-${k}`)), globalServiceEntry('payment', 'shop', 'payment-service.shop.svc.cluster.global', peers)];
    return store.put(i, { ...report(`c${i}`, objs), labels: { region: i % 2 ? 'europe' : 'apac' } } as ClusterReport);
  });
  const result = runFleetRules(members, builtinPolicies, { parameters: {}, actions: {} });
  t.ok(result.findings.get('c0')?.some((f) => f.policy === 'mesh.global-endpoints-exist'), 'the rules ran over the indexes (a stale endpoint found)');
  t.ok(handed.length >= 2 * n, `indexes read more than once per cluster (${handed.length})`);
  await new Promise((resolve) => setImmediate(resolve)); // WeakRef targets are held until the end of the job
  gc();
  const alive = handed.filter((w) => w.deref() !== undefined).length;
  t.ok(alive <= 1, `only what the cache keeps is alive (${alive} of ${handed.length})`);
  t.equal(members.length, n, 'while the members themselves are still held');
});

// Issue #17: a line the store keeps as a key of its shared-objects map must not keep its whole record alive (the
// lines come from splitting the record's text, and V8 makes each piece a slice of that text). Each cluster here has
// the same 500 Services as every other and one of its own: the one new line per record becomes a key. Heap after a
// full collection, against the records' size: with slices kept, every record read (60 × ~47 KB) stays alive.
t.test('the shared-objects map keeps its lines, not the records they were read from', async (t) => {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const n = 60;
  const store = new FleetStore(1); // nothing cached: only the shared map holds what was read
  t.teardown(() => store.close());
  const common = Array.from({ length: 500 }, (_, k) => service(`common-service-${k}`));
  const members = Array.from({ length: n }, (_, i) => store.put(i, report(`c${i}`, [...common, service(`own-${i}`)])));
  const recordBytes = JSON.stringify(common).length;
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const before = heap();
  let seen = 0;
  for (const m of members) seen += m.objects.length;
  t.equal(seen, n * 501, 'every record read back');
  const grown = heap() - before;
  t.ok(grown < (n * recordBytes) / 4, `the heap grew by ${Math.round(grown / 1024)} KiB after reading ${n} records of ${Math.round(recordBytes / 1024)} KiB`);
});
