import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, clusterContextFromFlags, pickFlags, oneOf, parametersFromFlags, positiveInt, severityThreshold, type CommandEnv } from '../src/cli/index.js';
import { undeclaredParameters } from '../src/authoring/index.js';
import { loadPolicySet } from '../src/loading/index.js';
import { SEVERITIES } from '../src/model/index.js';
import { emit, failsThreshold, formatJson, formatJunit, formatPretty, formatSarif, painter, sortFindings, summarize, useColor, type LintReport } from '../src/report/index.js';
import { loadLayers } from './desired.js';
import { FleetFileError, formatFleetError, loadFleet, undeclaredFleetParameters } from './fleet.js';
import { lintFleet } from './lint-fleet.js';

/**
 * `fleetgate lint --fleet FILE` (src/cli/lint.ts dispatches here through CommandEnv.lintFleet): lint's flags,
 * formats and exit codes over every cluster's desired state. Layers that cannot be read are input errors (exit 2)
 * and every other layer and cluster is still linted.
 */

const FORMATS = ['pretty', 'json', 'sarif', 'junit'] as const;

export async function runLintFleet(argv: string[], env: CommandEnv): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
    ...pickFlags('fleet', 'cluster-label', 'policies', 'action', 'param', 'format', 'output', 'no-builtins'),
    'fail-on': { type: 'string' },
    severity: { type: 'string' },
    'policy-timeout': { type: 'string' },
  } });
  if (!values.fleet) throw new UsageError('--fleet needs the fleet file (fleet.yaml)');
  if (positionals.length) throw new UsageError(`--fleet lints the config repo the fleet file names: no PATH is given (got "${positionals[0]}")`);
  if (values['cluster-label']?.length) throw new UsageError('--cluster-label is not used with --fleet: each cluster has its labels in the fleet file');
  const format = oneOf('--format', values.format, FORMATS, process.stdout.isTTY && !values.output ? 'pretty' : 'json');
  const failOn = severityThreshold(values['fail-on']);
  const minSeverity = values.severity === undefined ? undefined : oneOf('--severity', values.severity, SEVERITIES, 'low');
  const { actions } = clusterContextFromFlags([], values.action);
  const parameters = parametersFromFlags(values.param);
  const timeoutMs = positiveInt('--policy-timeout', values['policy-timeout'], 10_000);

  let fleet;
  try {
    fleet = await loadFleet(values.fleet);
  } catch (err) {
    if (!(err instanceof FleetFileError)) throw err;
    process.stderr.write(`fleetgate lint: the fleet file is not usable:\n${err.errors.map((e) => `  ${formatFleetError(e)}`).join('\n')}\n`);
    return EXIT_USAGE;
  }
  const policySet = await loadPolicySet(values.policies ?? [], { builtins: values['no-builtins'] ? [] : await env.builtins(), sandbox: { timeoutMs } });
  const undeclared = [...undeclaredParameters(parameters, policySet.policies, '--param'), ...undeclaredFleetParameters(fleet, policySet.policies)];
  if (undeclared.length) throw new UsageError(undeclared.join('\n'));

  const layers = await loadLayers(fleet, { positions: true });
  const result = await lintFleet(fleet, layers, { policies: policySet.policies, actions, parameters, timeoutMs });
  const findings = sortFindings(result.findings);
  const errors = [...policySet.errors, ...result.errors];
  const report: LintReport = {
    findings,
    errors,
    summary: {
      ...summarize(findings, errors, { files: result.files, objects: result.objects, skipped: 0, waived: result.waived, exempt: result.exempt }),
      clusters: result.clusters,
      fleetRules: { rules: result.rules },
    },
  };
  const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  const text =
    format === 'json'
      ? formatJson(report)
      : format === 'sarif'
        ? formatSarif(report, policySet.policies, version)
        : format === 'junit'
          ? formatJunit(report, policySet.policies)
          : formatPretty(report, painter(!values.output && useColor(process.stdout)), { minSeverity });
  await emit(text, values.output);
  if (errors.length) return EXIT_USAGE;
  // A fleet rule that failed has not passed: it fails the run as a finding would.
  const ruleFailed = failOn !== 'never' && result.rules.some((r) => r.error);
  return ruleFailed || failsThreshold(findings, failOn) ? EXIT_FINDINGS : EXIT_OK;
}
