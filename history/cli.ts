import { parseArgs } from 'node:util';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, type Command } from '../src/cli/index.js';
import { oneOf, positiveInt } from '../src/cli/index.js';
import { painter, useColor } from '../src/report/index.js';
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

async function answer(store: Store, sub: (typeof SUBCOMMANDS)[number], args: string[], values: Record<string, unknown>, format: string, tty: boolean): Promise<{ text: string; code: number }> {
  const paint = painter(tty && useColor(process.stdout));
  const json = (o: unknown) => `${JSON.stringify(o, null, 2)}\n`;
  const arity = (n: number) => {
    if (args.length > n) throw new UsageError(`unexpected argument "${args[n]}" for "history ${sub}"`);
  };
  switch (sub) {
    case 'trend': {
      arity(0);
      const since = values.since === undefined ? undefined : new Date(Date.now() - duration('--since', values.since as string, 0));
      const t = await trend(store, {
        since,
        last: values.last === undefined ? undefined : positiveInt('--last', values.last as string, 1),
        by: values.by === undefined ? undefined : String(values.by).split(',').map((s) => s.trim()).filter(Boolean),
        clusters: values.cluster as string[] | undefined,
      });
      return { text: format === 'json' ? json(t) : format === 'html' ? trendHtml(t) : prettyTrend(t, paint), code: EXIT_OK };
    }
    case 'diff': {
      arity(2);
      const runs = await listRuns(store);
      let a, b;
      if (args.length === 2) [a, b] = [await resolveRun(store, args[0], runs), await resolveRun(store, args[1], runs)];
      else if (args.length === 1) [a, b] = [await resolveRun(store, args[0], runs), await resolveRun(store, undefined, runs)];
      else {
        if (runs.length < 2) throw new HistoryError('usage', `history store ${store.where} has ${runs.length} run${runs.length === 1 ? '' : 's'}: diff needs two`);
        [a, b] = runs.slice(-2);
      }
      const d = await diffRuns(store, a, b);
      return { text: format === 'json' ? json(d) : prettyDiff(d, paint), code: EXIT_OK };
    }
    case 'convergence': {
      arity(0);
      if (!values.fleet) throw new UsageError('convergence needs --fleet FILE (its config repo says what the commit changed)');
      let fleet;
      try {
        fleet = await loadFleet(values.fleet as string);
      } catch (err) {
        if (err instanceof FleetFileError) throw new UsageError(`the fleet file is not usable:\n${err.errors.map((e) => `  ${formatFleetError(e)}`).join('\n')}`);
        throw err;
      }
      const rev = (values.commit as string | undefined) ?? (await headCommit(fleet.repo));
      if (!rev) throw new UsageError(`the config repo ${fleet.repo} is not a git repository: give --commit SHA of one`);
      let c;
      try {
        c = await convergence(store, fleet, rev, { graceMs: duration('--grace', values.grace as string | undefined, 0) });
      } catch (err) {
        if (err instanceof HistoryError) throw err;
        throw new UsageError((err as Error).message);
      }
      return { text: format === 'json' ? json(c) : prettyConvergence(c, paint), code: c.overdue ? EXIT_FINDINGS : EXIT_OK };
    }
    case 'finding': {
      arity(1);
      if (!args[0]) throw new UsageError('give the FINGERPRINT of a finding (history diff lists them)');
      const f = await findingTimeline(store, args[0]);
      return { text: format === 'json' ? json(f) : prettyFinding(f, paint), code: EXIT_OK };
    }
    case 'cluster': {
      arity(1);
      if (!args[0]) throw new UsageError('give the NAME of a cluster');
      const c = await clusterTimeline(store, args[0]);
      return { text: format === 'json' ? json(c) : prettyCluster(c, paint), code: EXIT_OK };
    }
  }
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
