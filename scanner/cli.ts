import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, type Command } from '../src/cli/command.js';
import { clusterContextFromFlags, oneOf } from '../src/cli/options.js';
import { loadPolicySet } from '../src/policy-loader.js';
import { undeclaredParameters } from '../src/strict.js';
import { painter, useColor } from '../src/report/colors.js';
import { emit } from '../src/report/write.js';
import { DesiredState, loadLayers } from './desired.js';
import { FleetFileError, formatFleetError, loadFleet } from './fleet.js';
import { formatHtml } from './html.js';
import { formatJson, formatPolicyReport, formatPretty, mergeReports } from './report.js';
import { scanFleet, type ClusterSource, type FleetReport } from './scan.js';

const FORMATS = ['pretty', 'json', 'html', 'policyreport'] as const;
type Format = (typeof FORMATS)[number];

const usage = `Usage: fleetgate scan --fleet FILE [options]
       fleetgate scan merge REPORT.json... [--format FORMAT] [--output FILE] [--fail-below SCORE]

Scans a fleet: for every cluster of the fleet file, compares its live state (a snapshot folder, or a live cluster
through a kubeconfig context, read-only) with the config repo's layers chosen by its labels (drift), runs every
policy on the live state, and scores each cluster and the fleet (0-100).

Options:
  --fleet FILE            the fleet file (fleet.yaml)
  --format FORMAT         pretty (default on a TTY), json, html (one self-contained file), policyreport
                          (wgpolicyk8s.io/v1alpha2 PolicyReport/ClusterPolicyReport YAML)
  --output FILE           write the report to FILE (atomically) instead of standard output
  --concurrency N         clusters read and judged at the same time (default 8)
  --shard I/N             scan only clusters I, I+N, I+2N, ... (I from 0, as an Indexed Job's completion index);
                          join the shards' JSON reports with "fleetgate scan merge"
  --fail-below SCORE      exit 1 when the fleet score is below SCORE (or no cluster could be scored)
  --policies PATH         load user policies (.ts/.js) from a file or folder (repeatable)
  --action ID=ACTION      override a policy's action everywhere: deny, warn or audit; ID may be a glob (repeatable)
  --no-builtins           run only the policies given with --policies
  --allow-exec-plugin CMD let kubeconfigs run the credential plugin CMD (an exec command exactly as the kubeconfig
                          writes it, or auth-provider:NAME); nothing else runs (repeatable)

Exit codes: 0 done (and at or above --fail-below), 1 fleet score below --fail-below, 2 unusable fleet file or arguments.
`;

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

function render(report: FleetReport, format: Format, output: string | undefined): string {
  switch (format) {
    case 'json':
      return formatJson(report);
    case 'html':
      return formatHtml(report);
    case 'policyreport':
      return formatPolicyReport(report);
    default:
      return formatPretty(report, painter(!output && useColor(process.stdout)));
  }
}

function exitCode(report: FleetReport, failBelow: number | undefined): number {
  if (failBelow === undefined) return EXIT_OK;
  return report.score === null || report.score < failBelow ? EXIT_FINDINGS : EXIT_OK;
}

/** A progress bar on standard error when it is a terminal. */
function progress(): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total) => {
    const w = 30;
    const n = Math.round((done / total) * w);
    process.stderr.write(`\r[${'#'.repeat(n)}${'-'.repeat(w - n)}] ${done}/${total} clusters${done === total ? '\n' : ''}`);
  };
}

async function runMerge(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
    format: { type: 'string' },
    output: { type: 'string' },
    'fail-below': { type: 'string' },
  } });
  if (!positionals.length) throw new UsageError('give the shard reports to merge (JSON files written by scan --format json)');
  const format = oneOf('--format', values.format, FORMATS, process.stdout.isTTY && !values.output ? 'pretty' : 'json');
  const failBelow = parseScore(values['fail-below']);
  const reports: FleetReport[] = [];
  for (const file of positionals) {
    try {
      reports.push(JSON.parse(await readFile(file, 'utf8')) as FleetReport);
    } catch (err) {
      throw new UsageError(`${file}: cannot read a JSON report: ${(err as Error).message}`);
    }
  }
  let merged: FleetReport;
  try {
    merged = mergeReports(reports);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  await emit(render(merged, format, values.output), values.output);
  return exitCode(merged, failBelow);
}

/** The scan command; `source` is for tests (inject a failing or slow cluster source). */
export async function runScan(argv: string[], deps: { source?: ClusterSource; stderr?: (s: string) => void } = {}): Promise<number> {
  if (argv[0] === 'merge') return runMerge(argv.slice(1));
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
    fleet: { type: 'string' },
    format: { type: 'string' },
    output: { type: 'string' },
    concurrency: { type: 'string' },
    shard: { type: 'string' },
    'fail-below': { type: 'string' },
    policies: { type: 'string', multiple: true },
    action: { type: 'string', multiple: true },
    'no-builtins': { type: 'boolean' },
    'allow-exec-plugin': { type: 'string', multiple: true },
  } });
  const stderr = deps.stderr ?? ((s: string) => void process.stderr.write(s));
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (did you mean --fleet ${positionals[0]}?)`);
  if (!values.fleet) throw new UsageError('--fleet FILE is required');
  const format = oneOf('--format', values.format, FORMATS, process.stdout.isTTY && !values.output ? 'pretty' : 'json');
  const concurrency = values.concurrency === undefined ? 8 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency must be a positive integer (got "${values.concurrency}")`);
  const shard = parseShard(values.shard);
  const failBelow = parseScore(values['fail-below']);
  const { actions } = clusterContextFromFlags([], values.action);

  let fleet;
  try {
    fleet = await loadFleet(values.fleet);
  } catch (err) {
    if (err instanceof FleetFileError) {
      stderr(`fleetgate scan: the fleet file is not usable:\n${err.errors.map((e) => `  ${formatFleetError(e)}`).join('\n')}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const policySet = await loadPolicySet(values.policies ?? [], { builtins: !values['no-builtins'] });
  if (policySet.errors.length) {
    stderr(`fleetgate scan: cannot load policies:\n${policySet.errors.map((e) => `  ${formatFleetError(e)}`).join('\n')}\n`);
    return EXIT_USAGE;
  }
  const undeclared = [
    ...undeclaredParameters(fleet.parameters, policySet.policies, `${fleet.file}: parameters`),
    ...fleet.overrides.flatMap((o, i) => undeclaredParameters(o.parameters, policySet.policies, `${fleet.file}: overrides[${i}].parameters`)),
    ...fleet.clusters.flatMap((c) => undeclaredParameters(c.parameters, policySet.policies, `${fleet.file}: clusters[${c.index}].parameters`)),
  ];
  if (undeclared.length) {
    stderr(`fleetgate scan: the fleet file sets parameters no policy declares:\n${undeclared.map((e) => `  ${e}`).join('\n')}\n`);
    return EXIT_USAGE;
  }
  const layers = await loadLayers(fleet);
  if (layers.errors.length) {
    stderr(`fleetgate scan: the config repo is not usable:\n${layers.errors.map((e) => `  ${formatFleetError(e)}`).join('\n')}\n`);
    return EXIT_USAGE;
  }
  const bar = progress();
  const report = await scanFleet(fleet, {
    policies: policySet.policies,
    desired: new DesiredState(layers.layers),
    concurrency,
    shard,
    actions,
    allowExecPlugins: values['allow-exec-plugin'] ?? [],
    source: deps.source,
    onCluster: bar ? (done, total) => bar(done, total) : undefined,
  });
  await emit(render(report, format, values.output), values.output);
  return exitCode(report, failBelow);
}

export const command: Command = {
  summary: 'scan a fleet: drift against the config repo, policies on live state, scores',
  usage,
  run: (argv) => runScan(argv),
};
