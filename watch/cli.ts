import { parseArgs } from 'node:util';
import { clusterContextFromFlags, EXIT_OK, EXIT_USAGE, positiveInt, UsageError, type Command, type CommandEnv } from '../src/cli/index.js';
import { loadPolicySet } from '../src/loading/index.js';
import { FleetFileError, formatFleetError, loadFleet } from '../scanner/fleet.js';
import { FleetWatch } from './fleet-watch.js';
import { WatchMetrics } from './metrics.js';
import { startServer } from './server.js';
import { HistoryRecorder } from './history.js';

const usage = `Usage: fleetgate watch --fleet FILE [options]

Watches a fleet continuously: lists then watches every live cluster (resourceVersion, bookmarks, relist on 410
Gone, reconnect with backoff), re-reads snapshot folders when their files change, re-renders the desired state
when the config repo changes, and re-judges only what changed; fleet-scope rules re-run (at most once a second)
when an object of a kind they declare changes anywhere, and a waiver that expires brings back what it hid.
Serves, on one plain-HTTP port:
  /metrics      Prometheus metrics (fleetgate_cluster_score, fleetgate_cluster_drift_objects, ...)
  /healthz      200 while the process runs
  /readyz       200 once every cluster has synced once or failed with a reason
  /report.json  the current fleet report, the shape of "fleetgate scan --format json"
  /report.html  the same as an HTML page

Options:
  --fleet FILE              the fleet file (fleet.yaml)
  --port N                  port to listen on (default 9595; 0 picks a free one)
  --host H                  address to listen on (default 0.0.0.0)
  --shard I/N               watch only clusters I, I+N, I+2N, ... (I from 0: a StatefulSet's ordinal)
  --policies PATH           load user policies (.ts/.js) from a file or folder (repeatable)
  --action ID=ACTION        override a policy's action everywhere: deny, warn or audit (repeatable)
  --no-builtins             run only the policies given with --policies
  --idle-timeout SECONDS    a watch stream silent this long is reconnected (default 90)
  --watch-timeout SECONDS   server-side timeout asked for each watch request: SECONDS to 2x SECONDS, at
                            random, so that streams opened together do not reopen together (default 300)
  --debounce MS             wait this long after a file change before re-reading (default 200)
  --history URL             record the current fleet report in a history store at every interval and once at
                            shutdown: a file path (embedded SQLite) or postgres://... (see "fleetgate history --help");
                            nothing is recorded before every cluster has synced once
  --history-interval AGE    how often to record (default 5m; e.g. 30s, 15m, 1h), on the wall clock's boundaries
  --history-keep AGE        delete runs older than AGE from the store when writing (e.g. 90d)

Logs are JSON lines on standard error. SIGTERM or SIGINT stop the watches and the server, then exit 0.
Exit codes: 0 stopped by a signal, 2 unusable fleet file, policies or arguments.
`;

function parseShard(v: string | undefined): { index: number; count: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard must be I/N with 0 <= I < N (got "${v}")`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

function parsePort(v: string | undefined): number {
  if (v === undefined) return 9595;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new UsageError(`--port must be a port number from 0 to 65535 (got "${v}")`);
  return n;
}

const log = (msg: string, fields: Record<string, unknown> = {}) =>
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);

/** The flags, checked: every usage error is thrown here, before anything is loaded. */
async function parseFlags(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      fleet: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      shard: { type: 'string' },
      policies: { type: 'string', multiple: true },
      action: { type: 'string', multiple: true },
      'no-builtins': { type: 'boolean' },
      'idle-timeout': { type: 'string' },
      'watch-timeout': { type: 'string' },
      debounce: { type: 'string' },
      history: { type: 'string' },
      'history-interval': { type: 'string' },
      'history-keep': { type: 'string' },
    },
  });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (did you mean --fleet ${positionals[0]}?)`);
  if (!values.fleet) throw new UsageError('--fleet FILE is required');
  if (!values.history && (values['history-interval'] !== undefined || values['history-keep'] !== undefined)) throw new UsageError('--history-interval and --history-keep need --history URL');
  // The history module is loaded only when asked for (a plain watch loads no database driver).
  const historyMod = values.history ? await import('../history/index.js') : undefined;
  const duration = (flag: string, v: string | undefined, dflt?: number) => {
    if (v === undefined) return dflt;
    try {
      return historyMod!.parseDuration(flag, v);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  };
  const historyIntervalMs = duration('--history-interval', values['history-interval'], 5 * 60_000)!;
  if (values.history && historyIntervalMs < 1000) throw new UsageError('--history-interval must be at least 1s');
  return {
    values,
    fleetFile: values.fleet,
    historyMod,
    historyIntervalMs,
    historyKeepMs: duration('--history-keep', values['history-keep']),
    port: parsePort(values.port),
    host: values.host ?? '0.0.0.0',
    shard: parseShard(values.shard),
    tuning: {
      idleMs: positiveInt('--idle-timeout', values['idle-timeout'], 90) * 1000,
      watchTimeoutSeconds: positiveInt('--watch-timeout', values['watch-timeout'], 300),
      debounceMs: positiveInt('--debounce', values.debounce, 200),
    },
    actions: clusterContextFromFlags([], values.action).actions,
  };
}

type Flags = Awaited<ReturnType<typeof parseFlags>>;

/** The fleet, the policies and the history store; a message and undefined when one of them is not usable. */
async function loadInputs(f: Flags, env: CommandEnv) {
  let fleet;
  try {
    fleet = await loadFleet(f.fleetFile);
  } catch (err) {
    if (err instanceof FleetFileError) {
      process.stderr.write(`fleetgate watch: the fleet file is not usable:\n${err.errors.map((e) => `  ${formatFleetError(e)}`).join('\n')}\n`);
      return undefined;
    }
    throw err;
  }
  // --action wins over the fleet file, as in scan: fold it into every cluster's own actions
  const { actions } = f;
  if (actions && Object.keys(actions).length) fleet = { ...fleet, clusters: fleet.clusters.map((c) => ({ ...c, actions: { ...c.actions, ...actions } })) };
  const policySet = await loadPolicySet(f.values.policies ?? [], { builtins: f.values['no-builtins'] ? [] : await env.builtins() });
  if (policySet.errors.length) {
    process.stderr.write(`fleetgate watch: cannot load policies:\n${policySet.errors.map((e) => `  ${formatFleetError(e)}`).join('\n')}\n`);
    return undefined;
  }
  let history;
  if (f.historyMod && f.values.history) {
    try {
      history = await f.historyMod.openHistory(f.values.history);
    } catch (err) {
      process.stderr.write(`fleetgate watch: ${(err as Error).message}\n`);
      return undefined;
    }
  }
  return { fleet, policies: policySet.policies, history };
}

export async function runWatch(argv: string[], env: CommandEnv, opts: { signal?: AbortSignal } = {}): Promise<number> {
  const f = await parseFlags(argv);
  const inputs = await loadInputs(f, env);
  if (!inputs) return EXIT_USAGE;
  const { fleet, policies, history } = inputs;
  const { host, port, shard, historyMod } = f;

  const metrics = new WatchMetrics();
  const watch = await FleetWatch.start({ fleet, policies, shard, hooks: metrics.hooks(), tuning: f.tuning, log });
  metrics.attach(watch);
  let server;
  try {
    server = await startServer(watch, metrics, host, port);
  } catch (err) {
    await watch.stop();
    await history?.close();
    process.stderr.write(`fleetgate watch: cannot listen on ${host}:${port}: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  const recorder =
    history &&
    new HistoryRecorder({
      history,
      intervalMs: f.historyIntervalMs,
      report: () => watch.report(),
      ready: () => watch.ready(),
      commit: () => historyMod!.configCommit(fleet.repo),
      sharded: (shard?.count ?? 1) > 1,
      keepMs: f.historyKeepMs,
      log,
      written: (result) => metrics.historyRecords.inc({ result }),
    });
  recorder?.start();
  log('watching', {
    url: server.url,
    clusters: watch.clusters.length,
    ...(shard ? { shard: `${shard.index}/${shard.count}` } : {}),
    ...(history ? { history: historyMod!.redactUrl(f.values.history!), historyIntervalSeconds: f.historyIntervalMs / 1000 } : {}),
  });

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    opts.signal?.addEventListener('abort', stop, { once: true });
  });
  log('stopping');
  await server.close();
  await recorder?.stop(); // the last record, of the state as the watch stops
  await watch.stop();
  log('stopped');
  return EXIT_OK;
}

export const command: Command = {
  summary: 'watch a fleet continuously: metrics, alerts, the live report',
  usage,
  run: (argv, env) => runWatch(argv, env),
};
