import { parentPort, workerData } from 'node:worker_threads';
import type { Policy } from '../src/index.js';
import { createEvaluator } from '../src/engine/index.js';
import { loadPolicySet } from '../src/loading/index.js';
import { DesiredState } from './desired.js';
import { judged } from './judged.js';
import { scanCluster, type ClusterSource, type ScanOptions } from './scan.js';
import type { FromWorker, ToWorker, WorkerInit } from './scan-pool.js';

/**
 * A worker thread of `scan --jobs N` (scan-pool.ts starts it): the entry point of its own thread, so it loads what
 * the main thread was handed — the policies (the built-in packs and the user policy files, checked to be the same
 * list), the config repo's layers (cloned in), the fleet — then judges the clusters it is sent one message at a
 * time and answers each with the cluster judged (judged.ts: the report's bytes are transferred, not copied).
 */

const port = parentPort!;
const init = workerData as WorkerInit;

async function policiesOf(): Promise<readonly Policy[]> {
  const builtins = init.policies.builtins ? (await import('../policies/index.js')).builtinPolicies : [];
  const set = await loadPolicySet([...init.policies.paths], { builtins, sandbox: { timeoutMs: 30_000 } });
  if (set.errors.length) throw new Error(`cannot load policies: ${set.errors.map((e) => `${e.file}: ${e.message}`).join('; ')}`);
  const ids = set.policies.map((p) => p.id);
  if (ids.join('\n') !== init.policyIds.join('\n')) throw new Error(`the worker loaded other policies than the scan (${ids.length} against ${init.policyIds.length})`);
  return set.policies;
}

async function main(): Promise<void> {
  const policies = await policiesOf();
  const source = init.source ? ((await import(init.source)) as { source: ClusterSource }).source : undefined;
  const opts: ScanOptions = {
    policies,
    desired: new DesiredState(init.layers),
    actions: init.actions,
    parameters: init.parameters,
    allowExecPlugins: init.allowExecPlugins,
    ...(init.now ? { now: new Date(init.now) } : {}),
    ...(source ? { source } : {}),
  };
  const evaluator = await createEvaluator(policies, {}, { sandbox: { timeoutMs: 30_000 } });
  let snapshots: Promise<void> = Promise.resolve();
  port.on('message', (m: ToWorker) => {
    if (m.type === 'stop') {
      void evaluator.close().finally(() => port.close());
      return;
    }
    const judge = () =>
      scanCluster(init.fleet, m.cluster, evaluator, opts).then((report) => {
        const j = judged(m.i, report, init.toStore);
        port.postMessage({ type: 'judged', judged: j } satisfies FromWorker, [j.record.buffer as ArrayBuffer]);
      });
    // Snapshot clusters one after the other (the pool sends the next before this one is done, so that it waits
    // here rather than for a round trip): each is read and judged without waiting on anything, and overlapping two
    // only keeps both clusters' objects alive. Live clusters wait on their API servers: they overlap.
    if ('snapshot' in m.cluster.source) snapshots = snapshots.then(judge);
    else void judge();
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}

main().catch((err: unknown) => {
  port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies FromWorker);
});
