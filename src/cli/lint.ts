import { createRequire } from 'node:module';
import { loadPaths, loadText, type LoadResult } from '../loading/index.js';
import { loadPolicySet } from '../loading/index.js';
import { painter, useColor } from '../report/index.js';
import { emitChunks, jsonReportChunks } from '../report/index.js';
import { formatJunit } from '../report/index.js';
import { formatPretty } from '../report/index.js';
import { sarifChunks } from '../report/index.js';
import { failsThreshold, skippedFleetRules, sortFindings, summarize, type LintReport } from '../report/index.js';
import { emit } from '../report/index.js';
import { applyRollouts, createEvaluator } from '../engine/index.js';
import { evaluateLint, type LintEvaluation } from './lint-evaluate.js';
import { SEVERITIES, pushAll } from '../model/index.js';
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
    const loaded: LoadResult = { resources: [], errors: [...policySet.errors], files: 0, skipped: 0 };
    const files = positionals.filter((p) => p !== '-');
    if (files.length) {
      const fromFiles = await loadPaths(files);
      pushAll(loaded.resources, fromFiles.resources);
      pushAll(loaded.errors, fromFiles.errors);
      loaded.files += fromFiles.files;
      loaded.skipped += fromFiles.skipped;
    }
    if (positionals.includes('-')) {
      const fromStdin = loadText(await readStdin(), '<stdin>');
      pushAll(loaded.resources, fromStdin.resources);
      pushAll(loaded.errors, fromStdin.errors);
      loaded.files += 1;
      loaded.skipped += fromStdin.skipped;
    }

    // PolicyRollouts among the files set the action of the policies they name for this cluster's cohort.
    const rolled = applyRollouts(cluster, policySet.policies, loaded.resources);
    const evaluator = await createEvaluator(policySet.policies, rolled.context, { sandbox: { timeoutMs } });
    let evaluation: LintEvaluation;
    try {
      evaluation = await evaluateLint(evaluator, loaded.resources, policySet.policies, rolled.findings);
    } finally {
      await evaluator.close();
    }
    const findings = sortFindings(evaluation.findings);
    const report: LintReport = {
      findings,
      errors: loaded.errors,
      summary: summarize(findings, loaded.errors, {
        files: loaded.files,
        objects: evaluation.objects,
        skipped: loaded.skipped,
        waived: evaluation.waived,
        exempt: evaluation.exempt,
      }),
    };
    const skipped = skippedFleetRules(policySet.policies);
    if (skipped) report.summary.fleetRules = skipped;
    const version = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
    // JSON and SARIF are written finding by finding: a fleet's report is never one string in memory.
    if (format === 'json') await emitChunks(jsonReportChunks(report), values.output);
    else if (format === 'sarif') await emitChunks(sarifChunks(report, policySet.policies, version), values.output);
    else {
      const text =
        format === 'junit'
          ? formatJunit(report, policySet.policies)
          : formatPretty(report, painter(!values.output && useColor(process.stdout)), { minSeverity });
      await emit(text, values.output);
    }
    if (report.errors.length) return EXIT_USAGE;
    return failsThreshold(findings, failOn) ? EXIT_FINDINGS : EXIT_OK;
  },
};
