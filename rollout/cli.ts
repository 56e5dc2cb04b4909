import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, oneOf, pickFlags, UsageError, type Command, type CommandEnv } from '../src/cli/index.js';
import { loadPolicySet } from '../src/loading/index.js';
import { emit, painter, useColor, writeAtomic } from '../src/report/index.js';
import { DesiredState, loadLayers } from '../scanner/desired.js';
import { FleetFileError, formatFleetError, loadFleet } from '../scanner/fleet.js';
import type { ClusterSource } from '../scanner/scan.js';
import type { Policy } from '../src/authoring/index.js';
import { RepoPositions } from './gates.js';
import { historyEvidence } from './history-evidence.js';
import { formatRolloutsHtml, formatRolloutsPretty } from './format.js';
import { findRollouts, rolloutStatus, type FoundRollout, type RolloutReport, type StatusOptions } from './status.js';
import { lineDiff, setRolloutStatus, type Status } from './status-edit.js';

/** `rollout advance` found nothing to do: every named rollout is complete, paused, or (with --if-ready) not ready. */
export const EXIT_NOTHING = 3;

const FORMATS = ['pretty', 'json', 'html'] as const;

const usage = `Usage: fleetgate rollout status --fleet FILE [NAME...] [--history URL] [--format pretty|json|html]
       fleetgate rollout advance --fleet FILE (NAME | --all) [--history URL] [--if-ready] [--dry-run] [--force --reason TEXT]
       fleetgate rollout pause|resume|back --fleet FILE NAME [--reason TEXT] [--dry-run]

Cohort rollouts of policies: PolicyRollout objects (fleetgate.io/v1alpha1) in the config repo move their policies'
action through stages by cluster cohort (audit → warn → deny, canary first). A stage may start when the clusters
the current stage has reached show at most spec.gate.maxFindings findings of the rollout's policies, its soak has
passed, and the desired state the config repo renders for the clusters the step reaches has at most
spec.gate.maxDesiredViolations violations of them. advance, pause, resume and back change only the lines under
status: in the rollout's file.

Options:
  --fleet FILE        the fleet file (fleet.yaml)
  --format FORMAT     status: pretty (default on a TTY), json, html
  --history URL       status/advance: take the gate's findings from the history store (every run since the stage
                      was reached: the soak window) instead of reading the clusters now
  --output FILE       status: write the report to FILE instead of standard output
  --all               advance: every rollout of the config repo
  --if-ready          advance: skip rollouts that are not ready instead of failing
  --dry-run           print the change to the rollout's file as a diff; write nothing
  --force             advance although the gate does not hold (needs --reason, which is recorded in status)
  --reason TEXT       why (recorded under status: for --force, pause and back)
  --policies PATH     load user policies (.ts/.js) from a file or folder (repeatable)
  --no-builtins       run only the policies given with --policies

Exit codes: 0 done (status: printed; advance: at least one rollout advanced), 1 a named rollout is not ready
(waiting or blocked), 2 unusable input or arguments, 3 nothing to advance (complete, paused, or not ready with
--if-ready).
`;

interface Loaded {
  opts: StatusOptions;
  found: FoundRollout[];
  /** Closes the history store, when one was opened. */
  close(): Promise<void>;
}

interface Deps {
  /** The built-in packs (bin/fleetgate hands them in; none when omitted). */
  builtins?: readonly Policy[];
  /** Where clusters are read from (tests inject a double). */
  source?: ClusterSource;
}

async function load(values: { fleet?: string; policies?: string[]; 'no-builtins'?: boolean; history?: string }, deps: Deps): Promise<Loaded> {
  if (!values.fleet) throw new UsageError('--fleet FILE is required');
  let fleet;
  try {
    fleet = await loadFleet(values.fleet);
  } catch (err) {
    if (err instanceof FleetFileError) throw new UsageError(`the fleet file is not usable:\n${err.errors.map((e) => `  ${formatFleetError(e)}`).join('\n')}`);
    throw err;
  }
  const policySet = await loadPolicySet(values.policies ?? [], { builtins: values['no-builtins'] ? [] : deps.builtins });
  if (policySet.errors.length) throw new UsageError(`cannot load policies:\n${policySet.errors.map((e) => `  ${formatFleetError(e)}`).join('\n')}`);
  const layers = await loadLayers(fleet);
  if (layers.errors.length) throw new UsageError(`the config repo is not usable:\n${layers.errors.map((e) => `  ${formatFleetError(e)}`).join('\n')}`);
  const positions = await RepoPositions.load(layers.layers);
  const { found, errors } = findRollouts(positions);
  if (errors.length) throw new UsageError(`the config repo's PolicyRollouts are not usable:\n${errors.map((e) => `  ${e.file}${e.line ? `:${e.line}` : ''}: ${e.message}`).join('\n')}`);
  let history: Awaited<ReturnType<typeof historyEvidence>> | undefined;
  if (values.history) {
    try {
      history = await historyEvidence(values.history);
    } catch (err) {
      throw new UsageError(`--history: ${(err as Error).message}`);
    }
  }
  return {
    found,
    opts: { fleet, desired: new DesiredState(layers.layers), positions, policies: policySet.policies, now: new Date(), source: deps.source, history: history?.evidence },
    close: async () => history?.close(),
  };
}

function pickRollouts(found: FoundRollout[], names: string[]): FoundRollout[] {
  for (const n of names) if (!found.some((f) => f.rollout.name === n)) throw new UsageError(`no PolicyRollout named "${n}" in the config repo (found: ${found.map((f) => f.rollout.name).join(', ') || 'none'})`);
  return names.length ? found.filter((f) => names.includes(f.rollout.name)) : found;
}

/** Writes the new status into the rollout's file, or prints the diff for --dry-run. */
async function writeStatus(f: FoundRollout, status: Status, dryRun: boolean, out: (s: string) => void): Promise<void> {
  const before = await readFile(f.file, 'utf8');
  const after = setRolloutStatus(before, f.rollout.name, status);
  if (dryRun) out(lineDiff(before, after, f.file));
  else await writeAtomic(f.file, after);
}

function currentStatus(f: FoundRollout): Status {
  const s = (f.rollout.object.status ?? {}) as Status;
  return { ...s };
}

async function runStatus(argv: string[], deps: Deps): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
    ...pickFlags('fleet', 'format', 'output', 'history', 'policies', 'no-builtins'),
  } });
  const format = oneOf('--format', values.format, FORMATS, process.stdout.isTTY && !values.output ? 'pretty' : 'json');
  const { found, opts, close } = await load(values, deps);
  const reports: RolloutReport[] = [];
  try {
    for (const f of pickRollouts(found, positionals)) reports.push(await rolloutStatus(f, opts));
  } finally {
    await close();
  }
  const text = format === 'json'
    ? `${JSON.stringify({ rollouts: reports }, null, 2)}\n`
    : format === 'html'
      ? formatRolloutsHtml(reports, opts.now)
      : formatRolloutsPretty(reports, painter(!values.output && useColor(process.stdout)));
  await emit(text, values.output);
  return EXIT_OK;
}

async function runAdvance(argv: string[], deps: Deps): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
    ...pickFlags('fleet', 'history', 'policies', 'no-builtins'),
    all: { type: 'boolean' }, 'if-ready': { type: 'boolean' }, 'dry-run': { type: 'boolean' }, force: { type: 'boolean' }, reason: { type: 'string' },
  } });
  if (!values.all && !positionals.length) throw new UsageError('name the rollout to advance, or give --all');
  if (values.all && positionals.length) throw new UsageError('give rollout names or --all, not both');
  if (values.force && !values.reason?.trim()) throw new UsageError('--force needs --reason TEXT: why the gate is overridden is recorded in the rollout');
  const { found, opts, close } = await load(values, deps);
  const out = (s: string) => void process.stdout.write(s);
  let advanced = 0;
  let notReady = 0;
  const reports = new Map<FoundRollout, RolloutReport>();
  try {
    for (const f of pickRollouts(found, positionals)) reports.set(f, await rolloutStatus(f, opts));
  } finally {
    await close();
  }
  for (const [f, report] of reports) {
    const next = report.next;
    if (!next) {
      out(`${f.rollout.name}: complete (stage ${report.stage} is the last)\n`);
      continue;
    }
    if (f.rollout.paused) {
      out(`${f.rollout.name}: paused${f.rollout.object.status && (f.rollout.object.status as Status).reason ? ` (${(f.rollout.object.status as Status).reason})` : ''}; "fleetgate rollout resume ${f.rollout.name}" lets it move again\n`);
      continue;
    }
    if (next.state !== 'ready' && !values.force) {
      out(`${f.rollout.name}: ${next.state}: ${next.reason}\n`);
      for (const b of next.blockers.slice(0, 20)) out(`  - ${b.cluster}: ${b.policy ?? ''} ${b.resource ?? ''} ${b.message}${b.source ? ` (${b.source.file}:${b.source.line})` : ''}\n`);
      if (!values['if-ready']) notReady++;
      continue;
    }
    const status: Status = { ...currentStatus(f), stage: next.stage, batch: next.batch, since: opts.now.toISOString(), forcedReason: undefined, forcedAt: undefined };
    if (next.state !== 'ready') Object.assign(status, { forcedReason: values.reason!.trim(), forcedAt: opts.now.toISOString() });
    await writeStatus(f, status, !!values['dry-run'], out);
    out(`${f.rollout.name}: ${values['dry-run'] ? 'would advance' : 'advanced'} to stage ${next.stage}${next.batch !== undefined ? ` batch ${next.batch}` : ''} (${next.clusters.length} cluster(s))${next.state !== 'ready' ? ` — forced over: ${next.reason}` : ''}\n`);
    advanced++;
  }
  if (notReady) return EXIT_FINDINGS;
  return advanced ? EXIT_OK : EXIT_NOTHING;
}

/** pause, resume and back: status edits that need no gate. */
async function runEdit(verb: 'pause' | 'resume' | 'back', argv: string[], deps: Deps): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
    ...pickFlags('fleet', 'policies', 'no-builtins'),
    reason: { type: 'string' }, 'dry-run': { type: 'boolean' },
  } });
  if (positionals.length !== 1) throw new UsageError(`name one rollout to ${verb}`);
  const { found, opts } = await load(values, deps);
  const [f] = pickRollouts(found, positionals);
  const status = currentStatus(f);
  const out = (s: string) => void process.stdout.write(s);
  if (verb === 'pause') {
    if (f.rollout.paused) return out(`${f.rollout.name}: already paused\n`), EXIT_NOTHING;
    Object.assign(status, { paused: true, reason: values.reason?.trim() || undefined });
  } else if (verb === 'resume') {
    if (!f.rollout.paused) return out(`${f.rollout.name}: not paused\n`), EXIT_NOTHING;
    Object.assign(status, { paused: undefined, reason: undefined });
  } else {
    if (f.rollout.stage < 0) return out(`${f.rollout.name}: has not started; nothing to go back from\n`), EXIT_NOTHING;
    const stage = f.rollout.stages[f.rollout.stage];
    // Back one batch within a batched stage, else back one stage (the previous stage fully reached).
    const batch = stage.batchSize && f.rollout.batch !== undefined && f.rollout.batch > 1 ? f.rollout.batch - 1 : undefined;
    const to = batch !== undefined ? f.rollout.stage : f.rollout.stage - 1;
    Object.assign(status, { stage: to < 0 ? undefined : to, batch, since: opts.now.toISOString(), reason: values.reason?.trim() || undefined });
  }
  await writeStatus(f, status, !!values['dry-run'], out);
  if (!values['dry-run']) out(`${f.rollout.name}: ${verb === 'pause' ? 'paused' : verb === 'resume' ? 'resumed' : `back to ${status.stage === undefined ? 'not started' : `stage ${status.stage}${status.batch !== undefined ? ` batch ${status.batch}` : ''}`}`}\n`);
  return EXIT_OK;
}

/** The rollout command; `source` is for tests (read clusters from a double). */
export async function runRollout(argv: string[], deps: Deps = {}): Promise<number> {
  const [verb, ...rest] = argv;
  try {
    switch (verb) {
      case 'status':
        return await runStatus(rest, deps);
      case 'advance':
        return await runAdvance(rest, deps);
      case 'pause':
      case 'resume':
      case 'back':
        return await runEdit(verb, rest, deps);
      default:
        throw new UsageError(verb ? `unknown subcommand "${verb}" (status, advance, pause, resume, back)` : 'give a subcommand: status, advance, pause, resume or back');
    }
  } catch (err) {
    if (err instanceof UsageError && err.message.includes('\n')) {
      process.stderr.write(`fleetgate rollout: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

export const command: Command = {
  summary: 'cohort rollouts of policies: status, advance on evidence, pause, back',
  usage,
  run: async (argv, env: CommandEnv) => runRollout(argv, { builtins: await env.builtins() }),
};
