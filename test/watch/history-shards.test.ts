import { join } from 'node:path';
import t from 'tap';
import { listRuns, openHistory } from '../../history/index.js';
import { buildFleetReport, type ClusterReport } from '../../scanner/scan.js';
import { HistoryRecorder } from '../../watch/history.js';
import { tempDir } from '../helpers/cli.js';

/**
 * The replicas of a sharded watch record at the same interval boundaries; their shards join into one run per
 * boundary (run id: the boundary and the config commit), as the pods of a sharded scan do. Before the fleet has
 * synced nothing is recorded.
 */
const cluster = (name: string, index: number, score: number): ClusterReport => ({
  name, index, labels: { region: 'europe' }, layers: ['base'], warnings: [], status: 'ok', score, desired: 1, inSync: 1, objects: 1,
  totalWeight: 1, passedWeight: 1, drift: [], findings: [], policies: {}, waived: 0,
});

t.test('shards of a sharded watch join into one run per boundary', async (t) => {
  const dir = await tempDir(t, 'fleetgate-watch-shards-');
  const url = join(dir, 'h.sqlite');
  const logs: string[] = [];
  let ready = false;
  const recorder = (index: number) =>
    new HistoryRecorder({
      // each replica its own connection to the one store, as two pods would have
      history: {
        recordRun: async (report, meta) => {
          const h = await openHistory(url);
          try {
            return await h.recordRun(report, meta);
          } finally {
            await h.close();
          }
        },
        close: async () => undefined,
      },
      intervalMs: 60_000,
      report: () => buildFleetReport([cluster(`c${index}`, index, 80 + index)], 'fleet.yaml', { index, count: 2 }),
      ready: () => ready,
      commit: async () => 'abcdef1234567890',
      sharded: true,
      log: (m) => logs.push(m),
    });
  const boundary = new Date('2026-12-02T02:05:00Z');
  await recorder(0).record(boundary);
  t.match(logs.pop(), /not every cluster has synced yet/, 'nothing before the first sync');
  ready = true;
  await recorder(0).record(boundary);
  await recorder(1).record(boundary);
  await recorder(0).record(new Date('2026-12-02T02:10:00Z'));
  const h = await openHistory(url);
  t.teardown(() => h.close());
  const runs = await listRuns(h.store);
  t.same(runs.map((r) => r.run), ['watch-20261202T0205Z-abcdef123456', 'watch-20261202T0210Z-abcdef123456'], 'one run per boundary, named by it and the commit');
  t.equal(runs[0].clusters, 2, 'both shards in the first');
  t.equal(runs[1].clusters, 1, 'one so far in the second');
});
