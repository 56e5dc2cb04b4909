import { parseArgs } from 'node:util';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, type Command } from '../src/cli/index.js';
import { oneOf, positiveInt } from '../src/cli/index.js';
import { painter, useColor, type Paint } from '../src/report/index.js';
import { emit } from '../src/report/index.js';
import { FleetFileError, formatFleetError, loadFleet } from '../scanner/fleet.js';
import { convergence } from './converge.js';
import { prettyCluster, prettyConvergence, prettyDiff, prettyFinding, prettyTrend } from './format.js';
import { headCommit } from './git.js';
import { trendHtml } from './html.js';
import { clusterTimeline, diffRuns, findingTimeline, listRuns, resolveRun, trend } from './queries.js';
import { parseDuration } from './record.js';
import { HistoryError, openStore, type Store } from './store.js';

/** Exit code when the history store itself cannot be used (locked, unreachable, corrupted, newer schema). */
export const EXIT_STORE = 3;

const usage = `Usage: fleetgate history trend|diff|convergence|finding|cluster [ARGS] --history URL [options]

Compliance over time, from the history store that "fleetgate scan --history URL" writes.

  trend                     fleet, region, cohort and cluster scores over the runs, score and object score
                            (--format html: charts)
  diff [RUN_A] [RUN_B]      what changed between two runs (default: the last two): new and resolved findings,
                            new and fixed drift, clusters that changed status, each with its reason
  convergence               for every object the config commit changed (kustomize layers: the rendered objects
                            whose rendering changed): on how many clusters it is in sync, which clusters still
                            differ and why, since when (needs --fleet for the config repo)
  finding FINGERPRINT       the timeline of one finding (a fingerprint, or a unique prefix of 6+ characters)
  cluster NAME              the timeline of one cluster

Options:
  --history URL        the store: a file path (embedded SQLite) or postgres://user@host/db (default: $FLEETGATE_HISTORY)
  --format FORMAT      pretty (default on a TTY) or json; trend also html
  --output FILE        write to FILE (atomically) instead of standard output
  --since DURATION     trend: only runs of the last DURATION (e.g. 30d, 12h)
  --last N             trend: only the last N runs
  --by KEYS            trend: label keys to group by (default region,cohort)
  --cluster NAME       trend: only these clusters (repeatable)
  --fleet FILE         convergence: the fleet file (its config repo and layers)
  --commit SHA         convergence: the config commit (default: the config repo's HEAD)
  --grace DURATION     convergence: how long clusters may take to converge (default 0s)

Exit codes: 0 done (convergence: converged, or still within --grace), 1 convergence: a cluster has not converged
past --grace, 2 unusable arguments (or an unknown run, finding or cluster), 3 the history store cannot be used.
`;

const SUBCOMMANDS = ['trend', 'diff', 'convergence', 'finding', 'cluster'] as const;

function duration(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  try {
    return parseDuration(flag, v);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

type Sub = (typeof SUBCOMMANDS)[number];
type Answer = { text: string; code: number };

/** What each subcommand needs: the store, its arguments, the flags, and how to render its answer. */
interface Ask {
  store: Store;
  sub: Sub;
  args: string[];
  values: Record<string, unknown>;
  format: string;
  paint: Paint;
}

const json = (o: unknown) => `${JSON.stringify(o, null, 2)}\n`;

function arity(q: Ask, n: number): void {
  if (q.args.length > n) throw new UsageError(`unexpected argument "${q.args[n]}" for "history ${q.sub}"`);
}

async function answerTrend(q: Ask): Promise<Answer> {
  arity(q, 0);
  const v = q.values;
  const since = v.since === undefined ? undefined : new Date(Date.now() - duration('--since', v.since as string, 0));
  const t = await trend(q.store, {
    since,
    last: v.last === undefined ? undefined : positiveInt('--last', v.last as string, 1),
    by: v.by === undefined ? undefined : String(v.by).split(',').map((s) => s.trim()).filter(Boolean),
    clusters: v.cluster as string[] | undefined,
  });
  return { text: q.format === 'json' ? json(t) : q.format === 'html' ? trendHtml(t) : prettyTrend(t, q.paint), code: EXIT_OK };
}

async function answerDiff(q: Ask): Promise<Answer> {
  arity(q, 2);
  const { store, args } = q;
  const runs = await listRuns(store);
  let a, b;
  if (args.length === 2) [a, b] = [await resolveRun(store, args[0], runs), await resolveRun(store, args[1], runs)];
  else if (args.length === 1) [a, b] = [await resolveRun(store, args[0], runs), await resolveRun(store, undefined, runs)];
  else {
    if (runs.length < 2) throw new HistoryError('usage', `history store ${store.where} has ${runs.length} run${runs.length === 1 ? '' : 's'}: diff needs two`);
    [a, b] = runs.slice(-2);
  }
  const d = await diffRuns(store, a, b);
  return { text: q.format === 'json' ? json(d) : prettyDiff(d, q.paint), code: EXIT_OK };
}

async function answerConvergence(q: Ask): Promise<Answer> {
  arity(q, 0);
  const v = q.values;
  if (!v.fleet) throw new UsageError('convergence needs --fleet FILE (its config repo says what the commit changed)');
  let fleet;
  try {
    fleet = await loadFleet(v.fleet as string);
  } catch (err) {
    if (err instanceof FleetFileError) throw new UsageError(`the fleet file is not usable:\n${err.errors.map((e) => `  ${formatFleetError(e)}`).join('\n')}`);
    throw err;
  }
  const rev = (v.commit as string | undefined) ?? (await headCommit(fleet.repo));
  if (!rev) throw new UsageError(`the config repo ${fleet.repo} is not a git repository: give --commit SHA of one`);
  let c;
  try {
    c = await convergence(q.store, fleet, rev, { graceMs: duration('--grace', v.grace as string | undefined, 0) });
  } catch (err) {
    if (err instanceof HistoryError) throw err;
    throw new UsageError((err as Error).message);
  }
  return { text: q.format === 'json' ? json(c) : prettyConvergence(c, q.paint), code: c.overdue ? EXIT_FINDINGS : EXIT_OK };
}

async function answerFinding(q: Ask): Promise<Answer> {
  arity(q, 1);
  if (!q.args[0]) throw new UsageError('give the FINGERPRINT of a finding (history diff lists them)');
  const f = await findingTimeline(q.store, q.args[0]);
  return { text: q.format === 'json' ? json(f) : prettyFinding(f, q.paint), code: EXIT_OK };
}

async function answerCluster(q: Ask): Promise<Answer> {
  arity(q, 1);
  if (!q.args[0]) throw new UsageError('give the NAME of a cluster');
  const c = await clusterTimeline(q.store, q.args[0]);
  return { text: q.format === 'json' ? json(c) : prettyCluster(c, q.paint), code: EXIT_OK };
}

const ANSWERS: Record<Sub, (q: Ask) => Promise<Answer>> = { trend: answerTrend, diff: answerDiff, convergence: answerConvergence, finding: answerFinding, cluster: answerCluster };

function answer(store: Store, sub: Sub, args: string[], values: Record<string, unknown>, format: string, tty: boolean): Promise<Answer> {
  return ANSWERS[sub]({ store, sub, args, values, format, paint: painter(tty && useColor(process.stdout)) });
}

export async function runHistory(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      history: { type: 'string' },
      format: { type: 'string' },
      output: { type: 'string' },
      since: { type: 'string' },
      last: { type: 'string' },
      by: { type: 'string' },
      cluster: { type: 'string', multiple: true },
      fleet: { type: 'string' },
      commit: { type: 'string' },
      grace: { type: 'string' },
    },
  });
  const [sub, ...args] = positionals;
  if (!sub) throw new UsageError(`give a subcommand: ${SUBCOMMANDS.join(', ')}`);
  if (!SUBCOMMANDS.includes(sub as 'trend')) throw new UsageError(`unknown subcommand "${sub}" (one of ${SUBCOMMANDS.join(', ')})`);
  const url = values.history ?? process.env.FLEETGATE_HISTORY;
  if (!url) throw new UsageError('--history URL is required (a file path or postgres://...), or set FLEETGATE_HISTORY');
  const tty = !!process.stdout.isTTY && !values.output;
  const formats = sub === 'trend' ? (['pretty', 'json', 'html'] as const) : (['pretty', 'json'] as const);
  const format = oneOf('--format', values.format, formats, tty ? 'pretty' : 'json');
  let store: Store | undefined;
  try {
    store = await openStore(url, { mustExist: true });
    const { text, code } = await answer(store, sub as 'trend', args, values, format, tty);
    await emit(text, values.output);
    return code;
  } catch (err) {
    if (!(err instanceof HistoryError)) throw err;
    process.stderr.write(`fleetgate history: ${err.message}\n`);
    return err.kind === 'usage' ? EXIT_USAGE : EXIT_STORE;
  } finally {
    await store?.close().catch(() => {});
  }
}

export const command: Command = {
  summary: 'compliance over time: trend, diff of runs, convergence of a config commit',
  usage,
  run: (argv) => runHistory(argv),
};
