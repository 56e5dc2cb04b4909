import { parseArgs } from 'node:util';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, type Command } from '../src/cli/index.js';
import { clusterContextFromFlags, oneOf, parametersFromFlags, pickFlags } from '../src/cli/index.js';
import { loadPolicySet } from '../src/loading/index.js';
import type { Policy } from '../src/authoring/index.js';
import { painter, useColor } from '../src/report/index.js';
import { DesiredState, loadLayers } from './desired.js';
import { FleetFileError, formatFleetError, loadFleet, undeclaredFleetParameters, type Fleet, type FleetCluster } from './fleet.js';
import type { HtmlExtras } from './html.js';
import { openOutput } from './output.js';
import { progressReporter } from './progress.js';
import { shardClusters, type ClusterReport, type ClusterSource, type FleetHead } from './scan.js';
import { defaultJobs } from './scan-pool.js';
import { boundHeapGrowth } from './heap.js';
import { MergeInputError, streamMerge, streamScan, type StreamedReport } from './stream.js';
import { writeReport } from './writers.js';
import { Tracer, otlpHeaders, otlpTracesUrl } from '../webhook/otlp.js';

const FORMATS = ['pretty', 'json', 'html', 'policyreport', 'openreports'] as const;
const REPORT_APIS = ['policyreport', 'openreports'] as const;
type Format = (typeof FORMATS)[number];

const usage = `Usage: fleetgate scan --fleet FILE [options]
       fleetgate scan merge REPORT.json... [--format FORMAT] [--output FILE] [--fail-below SCORE] [--report-passes] [--policies PATH] [--no-builtins]
                            [--history URL [--history-keep AGE] [--run-id ID]]

Scans a fleet: for every cluster of the fleet file, compares its live state (a snapshot folder, or a live cluster
through a kubeconfig context, read-only) with the config repo's layers chosen by its labels (drift), runs every
policy on the live state, and scores each cluster and the fleet (0-100): score (checks weighed by severity) and
objectScore (each judged object once, by its worst policy; README "What is checked"). Each cluster's report waits
in a temporary file under TMPDIR (as much disk as its JSON report) until every cluster is read, then the report is
written a cluster at a time: memory does not grow with the reports. "scan merge" does the same with the shards' reports and
records the merged run with --history.

Options:
  --fleet FILE            the fleet file (fleet.yaml)
  --format FORMAT         pretty (default on a TTY), json, html (one self-contained file), policyreport
                          (wgpolicyk8s.io/v1alpha2 PolicyReport/ClusterPolicyReport YAML), openreports
                          (openreports.io/v1alpha1 Report/ClusterReport YAML)
  --report-passes         policyreport/openreports: also a "pass" result per policy (checks passed)
  --publish-reports       server-side-apply each live cluster's reports into that cluster, and delete the ones
                          of earlier runs it no longer has; needs RBAC on the report resources there
                          (docs/operations.md)
  --report-api API        the API --publish-reports writes: policyreport (default) or openreports
  --output FILE           write the report to FILE (atomically) instead of standard output
  --concurrency N         clusters read and judged at the same time (default 8; with --jobs, shared out
                          between the worker threads)
  --jobs N                judge clusters in N worker threads (default: one per core, within the container's CPU
                          limit, but at most one per 16 snapshot clusters, so a small fleet stays on one
                          thread); 1: all on the main thread.
                          The report is the same whatever N; fleet-scope rules and the report are written
                          on the main thread
  --shard I/N             scan only clusters I, I+N, I+2N, ... (I from 0, as an Indexed Job's completion index);
                          join the shards' JSON reports with "fleetgate scan merge"
  --fail-below SCORE      exit 1 when the fleet score is below SCORE (or no cluster could be scored)
  --policies PATH         load user policies (.ts/.js) from a file or folder (repeatable)
  --action ID=ACTION      override a policy's action everywhere: deny, warn or audit; ID may be a glob (repeatable)
  --no-builtins           run only the policies given with --policies
  --param NAME=VALUE      set a parameter of every policy that declares it, VALUE as YAML (repeatable);
                          POLICY:NAME=VALUE for one policy; over the fleet file's parameters
  --progress-interval S   off a terminal, a JSON progress line on stderr every S seconds (default 30; 0: every
                          cluster); on a terminal, a progress bar
  --history URL           also record the run in a history store: a file path (embedded SQLite) or postgres://...
                          (see "fleetgate history --help"); with --format html the report adds trends, marks of
                          what is new/fixed since the last run and the convergence of the config commit
  --history-keep AGE      delete runs older than AGE from the store (e.g. 90d) when writing
  --run-id ID             the run this scan belongs to in the store (shards of one run give the same id; default
                          for --shard: the config commit and the UTC hour; else a new id per scan)
  --otlp-endpoint URL     export traces (a span per cluster) over OTLP/HTTP JSON to URL; default: the standard
                          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT variables, else off
  --allow-exec-plugin CMD let kubeconfigs run the credential plugin CMD (an exec command exactly as the kubeconfig
                          writes it, or auth-provider:NAME), or read token-file:PATH; nothing else runs (repeatable)

Exit codes: 0 done (and at or above --fail-below), 1 fleet score below --fail-below, 2 unusable fleet file or arguments,
3 the report was written but the history store could not be written (the reason is on standard error).
`;

/** The tracer of --otlp-endpoint or the OTEL_* variables; undefined (off) when neither is set. */
function scanTracer(flag: string | undefined, stderr: (s: string) => void): Tracer | undefined {
  let url: string | undefined;
  try {
    url = otlpTracesUrl(flag);
  } catch (err) {
    throw new UsageError(`--otlp-endpoint: ${(err as Error).message}`);
  }
  if (!url) return undefined;
  return new Tracer({ url, serviceName: process.env.OTEL_SERVICE_NAME || 'fleetgate-scan', headers: otlpHeaders(), onError: (m) => stderr(`fleetgate scan: ${m}\n`) });
}

function parseShard(v: string | undefined): { index: number; count: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2]))
    throw new UsageError(`--shard must be I/N with 0 <= I < N (got "${v}")`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

function parseScore(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) throw new UsageError(`--fail-below must be a score from 0 to 100 (got "${v}")`);
  return n;
}

function exitCode(head: FleetHead, failBelow: number | undefined): number {
  if (failBelow === undefined) return EXIT_OK;
  return head.score === null || head.score < failBelow ? EXIT_FINDINGS : EXIT_OK;
}

/** The history flags of scan and scan merge; the history module is loaded only when one is given. */
async function historyFlags(values: { history?: string; 'history-keep'?: string; 'run-id'?: string }) {
  // A plain scan loads no database driver.
  const history = values.history || values['history-keep'] || values['run-id'] ? await import('../history/index.js') : undefined;
  if (!values.history && history) throw new UsageError('--history-keep and --run-id need --history URL');
  try {
    const keepMs = values['history-keep'] === undefined ? undefined : history!.parseDuration('--history-keep', values['history-keep']);
    return { history, keepMs };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** What follows a scan or a merge: the report's format and destination, the exit threshold, the history store. */
interface Delivery {
  format: Format;
  output?: string;
  passes: boolean;
  failBelow?: number;
  history?: { module: typeof import('../history/index.js'); url: string; keepMs?: number; runId?: string };
  stderr: (s: string) => void;
}

/** The Delivery of scan's and scan merge's flags (the format, --fail-below and the history flags already read). */
async function deliveryOf(
  values: { output?: string; 'report-passes'?: boolean; 'fail-below'?: string; history?: string; 'history-keep'?: string; 'run-id'?: string },
  format: Format,
  stderr: (s: string) => void,
): Promise<Delivery> {
  const failBelow = parseScore(values['fail-below']);
  const { history, keepMs } = await historyFlags(values);
  return {
    format,
    output: values.output,
    passes: !!values['report-passes'],
    failBelow,
    history: history && { module: history, url: values.history!, keepMs, runId: values['run-id'] },
    stderr,
  };
}

/**
 * Delivers a scan or a merge and removes its spool: the run recorded in the history store (when asked), then the
 * report written as the clusters are read back one at a time. `fleet` (when at hand) gives the config commit.
 * Returns the exit code.
 */
async function deliver(scan: StreamedReport, opts: Delivery, fleet?: Fleet, before?: () => Promise<void>): Promise<number> {
  try {
    await before?.();
    const { format, history } = opts;
    const extras: HtmlExtras = { time: new Date(), commit: fleet && (format === 'html' || history) ? await headCommitOf(fleet.repo) : null };
    let historyFailed = false;
    if (history) {
      const r = await history.module.recordScan(history.url, scan, fleet, { commit: extras.commit, time: extras.time, runId: history.runId, keepMs: history.keepMs, html: format === 'html' });
      if (r.error) {
        opts.stderr(`fleetgate scan: the report is written, but not the history: ${r.error}\n`);
        historyFailed = true;
      } else extras.history = r.html;
    }
    const out = await openOutput(opts.output);
    try {
      await writeReport(format, out, scan.head, scan.clusters(), { passes: opts.passes, html: extras, paint: painter(!opts.output && useColor(process.stdout)), json: format === 'json' ? scan.json() : undefined });
      await out.done();
    } catch (err) {
      await out.abort();
      throw err;
    }
    return historyFailed ? EXIT_HISTORY : exitCode(scan.head, opts.failBelow);
  } finally {
    await scan.close();
  }
}

async function runMerge(argv: string[], builtins: readonly Policy[] = [], stderr: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
    ...pickFlags('format', 'output', 'fail-below', 'report-passes', 'policies', 'no-builtins', 'history'),
    'history-keep': { type: 'string' },
    'run-id': { type: 'string' },
  } });
  if (!positionals.length) throw new UsageError('give the shard reports to merge (JSON files written by scan --format json)');
  const format = oneOf('--format', values.format, FORMATS, process.stdout.isTTY && !values.output ? 'pretty' : 'json');
  const delivery = await deliveryOf(values, format, stderr);
  // Shards leave the fleet-scope rules to the merge: only here is every cluster's index at hand.
  const policies = async () => {
    const policySet = await loadPolicySet(values.policies ?? [], { builtins: values['no-builtins'] ? [] : builtins });
    if (policySet.errors.length) throw new UsageError(`cannot load policies: ${policySet.errors.map((e) => `${e.file}: ${e.message}`).join('; ')}`);
    return policySet.policies;
  };
  let merged: StreamedReport;
  try {
    merged = await streamMerge(positionals, policies);
  } catch (err) {
    throw err instanceof MergeInputError ? new UsageError(err.message) : err;
  }
  // The fleet file the shards name, when it is at hand, gives the run its config commit (and the HTML report the
  // convergence of that commit).
  const fleet = delivery.history || format === 'html' ? await loadFleet(merged.head.fleet).catch(() => undefined) : undefined;
  return deliver(merged, delivery, fleet);
}

const SCAN_FLAGS = {
  ...pickFlags('fleet', 'format', 'output', 'shard', 'fail-below', 'policies', 'action', 'no-builtins', 'param', 'report-passes', 'otlp-endpoint', 'history'),
  concurrency: { type: 'string' },
  jobs: { type: 'string' },
  'publish-reports': { type: 'boolean' },
  'report-api': { type: 'string' },
  'progress-interval': { type: 'string' },
  'history-keep': { type: 'string' },
  'run-id': { type: 'string' },
  'allow-exec-plugin': { type: 'string', multiple: true },
} as const;

/** scan's flags, checked: a UsageError names the first bad one. */
function scanFlags(argv: string[]) {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: SCAN_FLAGS });
  const publish = values['publish-reports'] ? oneOf('--report-api', values['report-api'], REPORT_APIS, 'policyreport') : undefined;
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (did you mean --fleet ${positionals[0]}?)`);
  if (!values.fleet) throw new UsageError('--fleet FILE is required');
  const format = oneOf('--format', values.format, FORMATS, process.stdout.isTTY && !values.output ? 'pretty' : 'json');
  const concurrency = values.concurrency === undefined ? 8 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency must be a positive integer (got "${values.concurrency}")`);
  const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new UsageError(`--jobs must be a positive integer (got "${values.jobs}")`);
  const shard = parseShard(values.shard);
  parseScore(values['fail-below']);
  const { actions } = clusterContextFromFlags([], values.action);
  const parameters = parametersFromFlags(values.param);
  const interval = values['progress-interval'] === undefined ? 30 : Number(values['progress-interval']);
  if (!Number.isFinite(interval) || interval < 0) throw new UsageError(`--progress-interval must be a number of seconds (got "${values['progress-interval']}")`);
  return { values, fleetFile: values.fleet, publish, format, concurrency, jobs, shard, actions, parameters, interval };
}

/** The fleet file, the policies and the config repo's layers; an exit code (the reasons on stderr) when one is unusable. */
async function scanInputs(fleetFile: string, policies: { paths: string[]; builtins: readonly Policy[] }, stderr: (s: string) => void) {
  let fleet;
  try {
    fleet = await loadFleet(fleetFile);
  } catch (err) {
    if (err instanceof FleetFileError) {
      stderr(`fleetgate scan: the fleet file is not usable:\n${err.errors.map((e) => `  ${formatFleetError(e)}`).join('\n')}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const policySet = await loadPolicySet(policies.paths, { builtins: policies.builtins, sandbox: { timeoutMs: 30_000 } });
  if (policySet.errors.length) {
    stderr(`fleetgate scan: cannot load policies:\n${policySet.errors.map((e) => `  ${formatFleetError(e)}`).join('\n')}\n`);
    return EXIT_USAGE;
  }
  const undeclared = undeclaredFleetParameters(fleet, policySet.policies);
  if (undeclared.length) {
    stderr(`fleetgate scan: the fleet file sets parameters no policy declares:\n${undeclared.map((e) => `  ${e}`).join('\n')}\n`);
    return EXIT_USAGE;
  }
  const layers = await loadLayers(fleet);
  if (layers.errors.length) {
    stderr(`fleetgate scan: the config repo is not usable:\n${layers.errors.map((e) => `  ${formatFleetError(e)}`).join('\n')}\n`);
    return EXIT_USAGE;
  }
  return { fleet, policies: policySet.policies, desired: new DesiredState(layers.layers) };
}

/**
 * The scan command. `builtins` are the built-in packs (bin/fleetgate hands them in; none when omitted);
 * `source` is for tests (inject a failing or slow cluster source).
 */
export async function runScan(
  argv: string[],
  deps: { builtins?: readonly Policy[]; source?: ClusterSource; stderr?: (s: string) => void } = {},
): Promise<number> {
  const stderr = deps.stderr ?? ((s: string) => void process.stderr.write(s));
  // Memory that does not grow with the fleet: V8's heaps kept close to their live data (scanner/heap.ts).
  boundHeapGrowth();
  if (argv[0] === 'merge') return runMerge(argv.slice(1), deps.builtins, stderr);
  const flags = scanFlags(argv);
  const { values } = flags;
  const delivery = await deliveryOf(values, flags.format, stderr);
  const tracer = scanTracer(values['otlp-endpoint'], stderr);
  const inputs = await scanInputs(flags.fleetFile, { paths: values.policies ?? [], builtins: values['no-builtins'] ? [] : (deps.builtins ?? []) }, stderr);
  if (typeof inputs === 'number') return inputs;
  const { fleet } = inputs;
  const bar = progressReporter({ tty: !!process.stderr.isTTY && !deps.stderr, write: stderr, intervalMs: flags.interval * 1000 });
  // A source handed in (tests) is a function: it cannot go to a worker thread, so such a scan stays on this one.
  const jobs = deps.source ? 1 : (flags.jobs ?? defaultJobs({ clusters: shardClusters(fleet.clusters, flags.shard) }));
  const builtins = !values['no-builtins'] && !!deps.builtins?.length;
  const scan = await streamScan(fleet, {
    policies: inputs.policies,
    desired: inputs.desired,
    concurrency: flags.concurrency,
    shard: flags.shard,
    actions: flags.actions,
    parameters: flags.parameters,
    allowExecPlugins: values['allow-exec-plugin'] ?? [],
    source: deps.source,
    onCluster: (done, total) => bar(done, total),
    tracer,
    ...(jobs > 1 ? { workers: { jobs, policies: { builtins, paths: values.policies ?? [] } } } : {}),
  });
  const publish = flags.publish;
  return deliver(scan, delivery, fleet, publish && (() => publishReports(fleet.clusters, scan.clusters(), publish, delivery.passes, flags.concurrency, stderr)));
}

const EXIT_HISTORY = 3;

async function headCommitOf(repo: string): Promise<string | null> {
  return (await import('../history/git.js')).headCommit(repo);
}

/**
 * Publishes every live cluster's reports into it (at most `concurrency` at a time, as the reports stream by); one
 * JSON log line per cluster on stderr says what happened. The publisher and its Kubernetes client are loaded only here.
 */
async function publishReports(
  clusters: readonly FleetCluster[],
  reports: AsyncIterable<ClusterReport>,
  api: (typeof REPORT_APIS)[number],
  passes: boolean,
  concurrency: number,
  stderr: (s: string) => void,
): Promise<void> {
  if (!clusters.some((c) => 'kubeconfig' in c.source)) return;
  const { publishClusterReports } = await import('./publish.js');
  const byName = new Map(clusters.map((c) => [c.name, c]));
  const inFlight = new Set<Promise<void>>();
  for await (const c of reports) {
    const cluster = byName.get(c.name);
    if (!cluster || !('kubeconfig' in cluster.source)) continue;
    const p: Promise<void> = publishClusterReports(cluster, c, api, { passes }).then((r) => {
      inFlight.delete(p);
      if (!r) return;
      const level = r.errors.length ? 'warn' : 'info';
      stderr(`${JSON.stringify({ level, time: new Date().toISOString(), msg: 'published reports', cluster: r.cluster, applied: r.applied, deleted: r.deleted, ...(r.errors.length ? { errors: r.errors } : {}) })}\n`);
    });
    inFlight.add(p);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

export const command: Command = {
  summary: 'scan a fleet: drift against the config repo, policies on live state, scores',
  usage,
  run: async (argv, env) => runScan(argv, { builtins: await env.builtins() }),
};
