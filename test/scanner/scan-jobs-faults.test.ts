import t from 'tap';
import { builtinPolicies } from '../../policies/index.js';
import { DesiredState, loadLayers } from '../../scanner/desired.js';
import { loadFleet } from '../../scanner/fleet.js';
import { streamScan } from '../../scanner/stream.js';
import type { ClusterReport } from '../../scanner/scan.js';

/**
 * `scan --jobs N` when a worker thread fails: a cluster whose judging ends its worker is reported as an `error`
 * cluster (it is tried again alone in a new worker first, so the clusters that were in flight beside it are not
 * blamed), a cluster whose read fails in a worker is reported as it would be on the main thread, and every other
 * cluster is judged as with `--jobs 1`. (A worker that cannot start: scan-jobs.test.ts.)
 */

const EXAMPLE = 'examples/fleet/fleet.yaml';
const SOURCE = new URL('../helpers/worker-faults-source.ts', import.meta.url).href;

async function collect(scan: { clusters(): AsyncGenerator<ClusterReport> }): Promise<ClusterReport[]> {
  const out: ClusterReport[] = [];
  for await (const c of scan.clusters()) out.push(c);
  return out;
}

t.test('a worker that stops is reported on its cluster; the rest goes on', async (t) => {
  const fleet = await loadFleet(EXAMPLE);
  const layers = await loadLayers(fleet);
  const opts = { policies: builtinPolicies, desired: new DesiredState(layers.layers), concurrency: 4, now: new Date('2026-12-01T00:00:00Z') };
  const faulty = await streamScan(fleet, { ...opts, workers: { jobs: 2, policies: { builtins: true, paths: [] }, source: SOURCE } });
  t.teardown(() => faulty.close());
  const clusters = await collect(faulty);
  t.same(clusters.map((c) => c.name), fleet.clusters.map((c) => c.name), 'every cluster is in the report, in fleet order');
  const byName = new Map(clusters.map((c) => [c.name, c]));
  t.equal(byName.get('fra01')!.status, 'error');
  t.match(byName.get('fra01')!.error, /worker thread judging this cluster stopped: it exited with code 7/);
  t.equal(byName.get('ams01')!.status, 'error');
  t.match(byName.get('ams01')!.error, /reader failed on purpose/);
  t.equal(faulty.head.summary.clusters, fleet.clusters.length);
  // every other cluster: what the main thread alone judges of it
  const here = await streamScan(fleet, opts);
  t.teardown(() => here.close());
  const expected = new Map((await collect(here)).map((c) => [c.name, c]));
  for (const name of ['par01', 'sin01', 'syd01']) {
    const got = byName.get(name)!;
    const want = expected.get(name)!;
    t.equal(got.status, 'ok', `${name} judged`);
    // fra01 is not in the fleet rules' view as it is on the main thread (it could not be judged), so compare what
    // a cluster's own judging gives: drift, its own policies' findings and tallies
    t.same(got.drift, want.drift, `${name}: drift`);
    const own = (c: ClusterReport) => c.findings.filter((f) => !('cluster' in f)); // fleet rules' findings name their cluster
    t.same(own(got), own(want), `${name}: findings`);
  }
  t.equal(byName.get('tyo01')!.status, 'unreachable', 'the live cluster that cannot be reached, as always');
});

t.test('a worker judges one snapshot cluster at a time, whatever --concurrency shares out', async (t) => {
  const fleet = await loadFleet(EXAMPLE);
  const layers = await loadLayers(fleet);
  const opts = { policies: builtinPolicies, desired: new DesiredState(layers.layers), concurrency: 8, now: new Date('2026-12-01T00:00:00Z') };
  const SPY = new URL('../helpers/worker-inflight-source.ts', import.meta.url).href;
  const scan = await streamScan(fleet, { ...opts, workers: { jobs: 2, policies: { builtins: true, paths: [] }, source: SPY } });
  t.teardown(() => scan.close());
  const clusters = await collect(scan);
  const snapshots = clusters.filter((c) => c.status === 'ok');
  t.ok(snapshots.length >= 4, 'the example fleet has snapshot clusters');
  for (const c of snapshots) t.ok(c.warnings.includes('snapshots read at once in this worker: 1'), `${c.name}: read alone in its worker`);
});
