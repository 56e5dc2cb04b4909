import { readFile } from 'node:fs/promises';
import type { Policy } from '../src/authoring/index.js';
import { createEvaluator, isFleetPolicy, type FleetClusterInput } from '../src/engine/index.js';
import type { Fleet, FleetCluster } from './fleet.js';
import { applyFleetResult, objectScoreAfterFleetRules, runFleetRules, scoreAfterFleetRules, type FleetResult, type FleetRulesContext } from './fleet-rules.js';
import { rolloutProgress, type RolloutProgress } from './rollouts.js';
import { scanCluster, shardClusters, type ClusterReport, type FleetHead, type FleetReport, type ScanOptions } from './scan.js';
import { ScanTrace } from './scan-trace.js';
import { fleetObjectScore, fleetScore, rescoreWithFleetVerdicts, type ObjectVerdict } from './score.js';
import { ScoreFactsTable } from './facts.js';
import { Spool } from './spool.js';
import { ClusterRecord, type InsertSorted } from './record.js';
import { compareFindings } from '../src/report/index.js';
import { factsOf, judged, type JudgedCluster } from './judged.js';
import { judgeInWorkers } from './scan-pool.js';
import { FleetStore } from './fleet-store.js';
import { mapWithConcurrency } from './live/pool.js';
import { nowMs } from '../webhook/otlp.js';

/**
 * The scan as a stream: each cluster's report goes to a spool on disk as the cluster finishes (its live objects
 * are already gone by then), and only what the fleet-scope rules need stays in memory (each cluster's small
 * index, see keepForFleet) and a few numbers for its score. Once every cluster is read, the fleet rules run, the
 * fleet score and summary (the head of the report) follow from those numbers, and the writers then read the final
 * reports back one at a time, in fleet order. Memory grows with the fleet rules' indexes only, not with the reports.
 *
 * The reports it gives are the ones `scanFleet` gives (the same scores, drift, findings and order).
 */
export interface StreamedReport {
  /** Everything but the clusters: score, summary, rollouts, fleet rules. */
  head: FleetHead;
  /** The clusters' final reports in fleet order, read back one at a time; may be iterated again. */
  clusters(): AsyncGenerator<ClusterReport>;
  /** The same clusters as the JSON report writes them (writers.ts writeJson), without parsing what is unchanged. */
  json(): AsyncGenerator<Uint8Array>;
  /** Removes the spool. */
  close(): Promise<void>;
}

type FleetRulesState = { result: FleetResult; strip?: boolean } | { deferred: FleetRulesContext };

export async function streamScan(fleet: Fleet, opts: ScanOptions): Promise<StreamedReport> {
  const clusters = shardClusters(fleet.clusters, opts.shard);
  const hasFleetRules = opts.policies.some(isFleetPolicy);
  const context: FleetRulesContext = { parameters: fleet.parameters, actions: fleet.actions };
  // Unsharded: the fleet rules run here, over the indexes kept on disk until then (fleet-store.ts). A shard keeps
  // each index in its report (for `scan merge`, which runs the rules over every shard's clusters).
  const members: FleetClusterInput[] | undefined = hasFleetRules && !opts.shard ? new Array(clusters.length) : undefined;
  const store = members ? new FleetStore(opts.fleetCacheBytes) : undefined;
  const spool = await Spool.create<ClusterReport>();
  const facts = new ScoreFactsTable(clusters.length);
  let done = 0;
  const trace = opts.tracer && new ScanTrace(opts.tracer);
  // Where each cluster ends up, judged here or in a worker thread: the fleet store, its facts, the spool.
  const keep = async (j: JudgedCluster, started: number) => {
    trace?.cluster(j.summary, started);
    if (members) members[j.i] = store!.putParts(j.i, j.fleet!);
    facts.put(j.i, j.facts, clusters[j.i].name);
    await spool.putBytes(j.i, j.record);
    done++;
    opts.onCluster?.(done, clusters.length, j.summary);
  };
  try {
    const jobs = opts.workers ? Math.min(opts.workers.jobs, clusters.length) : 1;
    if (jobs > 1) await judgeInWorkers(fleet, clusters, opts, { ...opts.workers!, jobs, toStore: !!members }, keep);
    else await judgeHere(fleet, clusters, opts, !!members, keep);
    await trace?.end(clusters.length, opts.shard);
    const rules: FleetRulesState | undefined = !hasFleetRules
      ? undefined
      : members
        ? { result: runFleetRules(members.splice(0), opts.policies, context, undefined, rescoreObjects(facts, store!, (i) => i)) }
        : { deferred: context };
    store?.close();
    const base = { fleet: fleet.file, shard: opts.shard, rollouts: rolloutProgress(fleet, opts.desired) };
    return await finish(spool, facts, clusters.map((_, i) => i), base, rules);
  } catch (err) {
    store?.close();
    await spool.close();
    throw err;
  }
}

/** `--jobs 1`: the clusters judged on this thread, `concurrency` at a time (reads overlap with judging). */
async function judgeHere(fleet: Fleet, clusters: readonly FleetCluster[], opts: ScanOptions, toStore: boolean, keep: (j: JudgedCluster, started: number) => Promise<void>): Promise<void> {
  const evaluator = await createEvaluator(opts.policies, {}, { sandbox: { timeoutMs: 30_000 } });
  // A failure to spool stops the scan: no further cluster is started and those in flight are awaited.
  await mapWithConcurrency(clusters, opts.concurrency ?? 8, async (cluster, i) => {
    const started = nowMs();
    const report = await scanCluster(fleet, cluster, evaluator, opts);
    await keep(judged(i, report, toStore), started);
  }).finally(() => evaluator.close());
}

/**
 * The objectScore parts the fleet rules give each cluster, as objectScoreAfterFleetRules does, made as runFleetRules
 * judges the cluster (its fleet index's verdicts read back from the store): the facts then hold the final parts,
 * which are also what the cluster's report gets when it is read back, so no verdict of the whole fleet is kept.
 */
function rescoreObjects(facts: ScoreFactsTable, store: FleetStore, keyOf: (member: number) => number) {
  return (member: number, byRules: ReadonlyMap<string, ObjectVerdict>): void => {
    const i = keyOf(member);
    const f = facts.get(i);
    if (f.score === null || typeof f.objectScore !== 'number') return;
    const verdicts = store.verdicts(i);
    if (!verdicts) return;
    facts.rescore(i, rescoreWithFleetVerdicts({ objectTotalWeight: f.objectTotalWeight ?? 0, objectPassedWeight: f.objectPassedWeight ?? 0 }, verdicts, byRules));
  };
}

/** A shard report that `scan merge` cannot use; the message names the file (or the report's position). */
export class MergeInputError extends Error {}

/**
 * `scan merge`: the shard reports' clusters are spooled one file at a time (a file is parsed whole, so memory
 * follows the largest shard, not the fleet), in fleet order across shards; fleet rules that the shards deferred
 * run over their indexes. `policies` is asked for only then.
 */
export async function streamMerge(files: readonly string[], policies: () => Promise<readonly Policy[]>): Promise<StreamedReport> {
  const spool = await Spool.create<ClusterReport>('fleetgate-merge-');
  const store = new FleetStore();
  try {
    const seen = new Map<string, number>();
    const entries: { key: number; index: number; name: string; member?: FleetClusterInput }[] = [];
    const facts = new ScoreFactsTable();
    let fleet = '';
    let rollouts: RolloutProgress[] | undefined;
    let context: FleetRulesContext | undefined;
    for (const [i, file] of files.entries()) {
      let r: FleetReport;
      try {
        r = JSON.parse(await readFile(file, 'utf8')) as FleetReport;
      } catch (err) {
        throw new MergeInputError(`${file}: cannot read a JSON report: ${(err as Error).message}`);
      }
      if (!r || !Array.isArray(r.clusters)) throw new MergeInputError(`report ${i + 1} is not a fleetgate scan JSON report (no "clusters")`);
      if (i === 0) ({ fleet = '', rollouts } = r); // every shard reports the same fleet file and rollouts
      if (r.fleetRules?.deferred && r.fleetContext) context ??= r.fleetContext;
      for (const c of r.clusters) {
        if (seen.has(c.name)) throw new MergeInputError(`cluster "${c.name}" is in report ${seen.get(c.name)! + 1} and report ${i + 1}`);
        seen.set(c.name, i);
        const key = entries.length;
        entries.push({ key, index: c.index ?? 0, name: c.name, member: store.put(key, c) });
        facts.put(key, factsOf(c));
        await spool.putBytes(key, ClusterRecord.of(c).bytes);
      }
    }
    entries.sort((a, b) => a.index - b.index || (a.name < b.name ? -1 : 1));
    const rescore = rescoreObjects(facts, store, (i) => entries[i].key);
    const rules: FleetRulesState | undefined = context
      ? { result: runFleetRules(entries.map((e) => e.member!), await policies(), context, undefined, rescore), strip: true }
      : undefined;
    for (const e of entries) delete e.member;
    store.close();
    return await finish(spool, facts, entries.map((e) => e.key), { fleet, rollouts }, rules);
  } catch (err) {
    store.close();
    await spool.close();
    throw err;
  }
}

/**
 * The head of the report (fleet score and summary) from the clusters' score facts and the fleet rules' result —
 * no pass over the spool — and the reader the writers use.
 */
async function finish(
  spool: Spool<ClusterReport>,
  /** Also the clusters' objectScore parts made in the fleet pass (rescoreObjects): their verdicts are not used again. */
  facts: ScoreFactsTable,
  order: readonly number[],
  base: { fleet: string; shard?: { index: number; count: number }; rollouts?: RolloutProgress[] },
  rules: FleetRulesState | undefined,
): Promise<StreamedReport> {
  const result = rules && 'result' in rules ? rules : undefined;
  /** What the fleet rules change in cluster `key`'s report (nothing: undefined). */
  const adjust = (key: number): ((c: ClusterReport, insertSorted?: InsertSorted) => void) | undefined => {
    if (!result) return undefined;
    return (c, insertSorted) => {
      if (result.strip) {
        delete c.fleetIndex;
        delete c.fleetActions;
      }
      const parts = facts.rescored(key);
      if (parts) delete c.fleetIndexVerdicts; // judged in the fleet pass already
      applyFleetResult(c, result.result, insertSorted && ((_c, found) => insertSorted('findings', found, compareFindings)));
      if (parts) Object.assign(c, parts);
      delete c.fleetIndexVerdicts; // used up (finishFleetRules drops them too)
    };
  };
  async function* clusters(): AsyncGenerator<ClusterReport> {
    for await (const [key, bytes] of readAhead(spool, order)) {
      const c = ClusterRecord.decode(bytes).report();
      adjust(key)?.(c);
      yield c;
    }
  }
  /** The clusters' JSON, as writeJson writes it: the spooled bytes, spliced where the fleet rules changed a member. */
  async function* json(): AsyncGenerator<Uint8Array> {
    for await (const [key, bytes] of readAhead(spool, order)) yield ClusterRecord.decode(bytes).jsonWith(adjust(key));
  }
  const scores: { score: number | null; objectScore?: number | null }[] = [];
  const summary = { clusters: order.length, scored: 0, unreachable: 0, error: 0 };
  for (const key of order) {
    const f = facts.get(key);
    const objects = result && objectScoreAfterFleetRules(f, result.result);
    scores.push({ score: result ? scoreAfterFleetRules(f, result.result) : f.score, objectScore: objects ? objects.objectScore : f.objectScore });
    if (f.score !== null) summary.scored++;
    if (f.status === 'unreachable') summary.unreachable++;
    if (f.status === 'error') summary.error++;
  }
  const head: FleetHead = {
    score: fleetScore(scores),
    objectScore: fleetObjectScore(scores),
    fleet: base.fleet,
    ...(base.shard ? { shard: base.shard } : {}),
    summary,
    ...(base.rollouts?.length ? { rollouts: base.rollouts } : {}),
    ...(result ? { fleetRules: { rules: result.result.rules } } : {}),
    ...(rules && 'deferred' in rules ? { fleetRules: { deferred: true, rules: [] }, fleetContext: rules.deferred } : {}),
  };
  return { head, clusters, json, close: () => spool.close() };
}

/**
 * The spooled records of `order`, in that order, the next one read while the caller works on the one at hand (so
 * the disk and the CPU overlap; two records are held at most).
 */
async function* readAhead(spool: Spool<ClusterReport>, order: readonly number[]): AsyncGenerator<[number, Buffer]> {
  let next = order.length ? spool.getBytes(order[0]) : undefined;
  for (let i = 0; i < order.length; i++) {
    const bytes = await next!;
    next = i + 1 < order.length ? spool.getBytes(order[i + 1]) : undefined;
    next?.catch(() => undefined); // awaited on the next turn, which sees the error
    yield [order[i], bytes];
  }
}
