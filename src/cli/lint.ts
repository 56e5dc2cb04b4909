import { createRequire } from 'node:module';
import { loadPaths, loadText, type LoadResult } from '../loading/index.js';
import { loadPolicySet } from '../loading/index.js';
import { painter, useColor } from '../report/index.js';
import { emitChunks, jsonReportChunks } from '../report/index.js';
import { formatJunit } from '../report/index.js';
import { formatPretty } from '../report/index.js';
import { sarifChunks } from '../report/index.js';
import { failsThreshold, skippedFleetRules, summarize, type FindingStore, type LintReport } from '../report/index.js';
import { emit } from '../report/index.js';
import { applyRollouts, createEvaluator } from '../engine/index.js';
import { evaluateLint, type LintEvaluation } from './lint-evaluate.js';
import { SEVERITIES, pushAll, type InputError, type Severity } from '../model/index.js';
import type { Policy } from '../authoring/index.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, type Command } from './command.js';
import { parseArgs } from 'node:util';
import { undeclaredParameters } from '../authoring/index.js';
import { clusterContextFromFlags, oneOf, parametersFromFlags, positiveInt, readStdin, severityThreshold } from './options.js';
import { pickFlags } from './flags.js';

const FORMATS = ['pretty', 'json', 'sarif', 'junit'] as const;

const usage = `Usage: fleetgate lint [options] PATH...
       fleetgate lint --fleet FILE [options]

Lints Kubernetes manifests (files and folders, recursively: .yaml, .yml, .json; multi-document files;
kind: List) as one inventory. PATH "-" reads manifests from standard input
(helm template ... | fleetgate lint -). Fleet-scope rules need every cluster and are skipped (the report says so).

With --fleet, lints the config repo of a fleet file before it merges: the desired state of every cluster (base +
the overlays its labels choose, as scan renders it) is judged with that cluster's labels, parameters and actions
(rollout stages included), then the fleet-scope rules run over all clusters. No PATH is given; every finding
names its cluster, and --cluster-label is not used (labels come from the fleet file).

Options:
  --fleet FILE                lint the desired state of every cluster of this fleet file (fleet.yaml)
  --cluster-label KEY=VALUE   label of the target cluster (repeatable): region=europe, type=edge, ...
  --policies PATH             load user policies (.ts/.js) from a file or folder (repeatable)
  --action ID=ACTION          override a policy's action: deny, warn or audit; ID may be a glob (repeatable)
  --param NAME=VALUE          set a parameter of every policy that declares it, VALUE as YAML:
                              --param euRegions=[europe,switzerland] (repeatable); POLICY:NAME=VALUE sets
                              it for one policy (POLICY may be a glob)
  --format FORMAT             pretty (default on a TTY), json, sarif (2.1.0), junit
  --fail-on SEVERITY          lowest severity of a deny/warn finding that fails the run:
                              critical, high, medium, low (default), never
  --output FILE               write the report to FILE (atomically) instead of standard output
  --severity SEVERITY         pretty output: show only findings at or above SEVERITY (critical, high, medium,
                              low); the totals, the other formats and the exit code still count every finding
  --no-builtins               run only the policies given with --policies
  --policy-timeout MS         budget of user policies (they run in the policy sandbox): a file whose top
                              level runs over it is skipped; a policy that loops or allocates without
                              bound is stopped and reported as an error (default 10000)

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 unusable input or arguments
(bad documents are reported with file:line and everything else is still linted).
`;

export const command: Command = {
  summary: 'lint manifest files and folders against the policies',
  usage,
  async run(argv, env) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
      ...pickFlags('fleet', 'cluster-label', 'policies', 'action', 'param', 'format', 'output', 'no-builtins'),
      'fail-on': { type: 'string' },
      severity: { type: 'string' },
      'policy-timeout': { type: 'string' },
    } });
    if (values.fleet !== undefined) {
      if (!env.lintFleet) throw new UsageError('--fleet needs the scanner, which this build does not include');
      return (await env.lintFleet())(argv, env);
    }
    if (!positionals.length) throw new UsageError('give at least one PATH (a file, a folder, or - for standard input), or --fleet FILE');
    const format = oneOf('--format', values.format, FORMATS, process.stdout.isTTY && !values.output ? 'pretty' : 'json');
    const failOn = severityThreshold(values['fail-on']);
    const minSeverity = values.severity === undefined ? undefined : oneOf('--severity', values.severity, SEVERITIES, 'low');
    const cluster = { ...clusterContextFromFlags(values['cluster-label'], values.action), parameters: parametersFromFlags(values.param) };

    const timeoutMs = positiveInt('--policy-timeout', values['policy-timeout'], 10_000);
    const policySet = await loadPolicySet(values.policies ?? [], { builtins: values['no-builtins'] ? [] : await env.builtins(), sandbox: { timeoutMs } });
    const undeclared = undeclaredParameters(cluster.parameters, policySet.policies, '--param');
    if (undeclared.length) throw new UsageError(undeclared.join('\n'));
    const loaded = await loadInputs(positionals, policySet.errors);

    // PolicyRollouts among the files set the action of the policies they name for this cluster's cohort.
    const rolled = applyRollouts(cluster, policySet.policies, loaded.resources);
    const evaluator = await createEvaluator(policySet.policies, rolled.context, { sandbox: { timeoutMs } });
    let evaluation: LintEvaluation;
    try {
      evaluation = await evaluateLint(evaluator, loaded.resources, policySet.policies, rolled.findings);
    } finally {
      await evaluator.close();
    }
    const findings = evaluation.findings.sort();
    const summary = summarize(findings, loaded.errors, {
      files: loaded.files,
      objects: evaluation.objects,
      skipped: loaded.skipped,
      waived: evaluation.waived,
      exempt: evaluation.exempt,
    });
    const skipped = skippedFleetRules(policySet.policies);
    if (skipped) summary.fleetRules = skipped;
    await writeReport(format, { findings: [], errors: loaded.errors, summary }, findings, policySet.policies, {
      output: values.output,
      minSeverity,
    });
    if (loaded.errors.length) return EXIT_USAGE;
    return failsThreshold(findings, failOn) ? EXIT_FINDINGS : EXIT_OK;
  },
};

/** The manifests under the PATHs ("-": standard input) as one inventory, after the policy files' errors. */
async function loadInputs(positionals: readonly string[], policyErrors: readonly InputError[]): Promise<LoadResult> {
  const loaded: LoadResult = { resources: [], errors: [...policyErrors], files: 0, skipped: 0 };
  const add = (one: LoadResult, files: number) => {
    pushAll(loaded.resources, one.resources);
    pushAll(loaded.errors, one.errors);
    loaded.files += files;
    loaded.skipped += one.skipped;
  };
  const files = positionals.filter((p) => p !== '-');
  if (files.length) {
    const fromFiles = await loadPaths(files);
    add(fromFiles, fromFiles.files);
  }
  if (positionals.includes('-')) add(loadText(await readStdin(), '<stdin>'), 1);
  return loaded;
}

/**
 * The report in the format asked for. JSON and SARIF are written finding by finding, each made from the store as
 * it is written: a large lint's report is never one string, nor its findings all objects, in memory. Pretty and
 * JUnit are one text, made from every finding.
 */
async function writeReport(
  format: (typeof FORMATS)[number],
  report: LintReport,
  findings: FindingStore,
  policies: readonly Policy[],
  opts: { output?: string; minSeverity?: Severity },
): Promise<void> {
  if (format === 'json') return emitChunks(jsonReportChunks(report, findings), opts.output);
  const version = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
  if (format === 'sarif') return emitChunks(sarifChunks(report, policies, version, process.cwd(), findings), opts.output);
  const whole: LintReport = { ...report, findings: [...findings] };
  const text =
    format === 'junit'
      ? formatJunit(whole, policies)
      : formatPretty(whole, painter(!opts.output && useColor(process.stdout)), { minSeverity: opts.minSeverity });
  await emit(text, opts.output);
}
