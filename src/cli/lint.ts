import { createRequire } from 'node:module';
import { loadPaths, loadText, type LoadResult } from '../loader/manifests.js';
import { loadPolicySet } from '../policy-loader.js';
import { painter, useColor } from '../report/colors.js';
import { formatJson } from '../report/json.js';
import { formatJunit } from '../report/junit.js';
import { formatPretty } from '../report/pretty.js';
import { formatSarif } from '../report/sarif.js';
import { failsThreshold, sortFindings, summarize, type LintReport } from '../report/summary.js';
import { emit } from '../report/write.js';
import { PolicyRuntime } from '../runtime.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, type Command } from './command.js';
import { parseArgs } from 'node:util';
import { undeclaredParameters } from '../strict.js';
import { clusterContextFromFlags, oneOf, parametersFromFlags, positiveInt, readStdin, severityThreshold } from './options.js';

const FORMATS = ['pretty', 'json', 'sarif', 'junit'] as const;

const usage = `Usage: fleetgate lint [options] PATH...

Lints Kubernetes manifests (files and folders, recursively: .yaml, .yml, .json; multi-document files;
kind: List) as one inventory. PATH "-" reads manifests from standard input
(helm template ... | fleetgate lint -).

Options:
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
  --no-builtins               run only the policies given with --policies
  --policy-timeout MS         budget of user policies (they run in a worker thread): one that loops or
                              allocates without bound is stopped and reported as an error (default 10000)

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 unusable input or arguments
(bad documents are reported with file:line and everything else is still linted).
`;

export const command: Command = {
  summary: 'lint manifest files and folders against the policies',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
      'cluster-label': { type: 'string', multiple: true },
      policies: { type: 'string', multiple: true },
      action: { type: 'string', multiple: true },
      param: { type: 'string', multiple: true },
      format: { type: 'string' },
      'fail-on': { type: 'string' },
      output: { type: 'string' },
      'no-builtins': { type: 'boolean' },
      'policy-timeout': { type: 'string' },
    } });
    if (!positionals.length) throw new UsageError('give at least one PATH (a file, a folder, or - for standard input)');
    const format = oneOf('--format', values.format, FORMATS, process.stdout.isTTY && !values.output ? 'pretty' : 'json');
    const failOn = severityThreshold(values['fail-on']);
    const cluster = { ...clusterContextFromFlags(values['cluster-label'], values.action), parameters: parametersFromFlags(values.param) };

    const policySet = await loadPolicySet(values.policies ?? [], { builtins: !values['no-builtins'] });
    const undeclared = undeclaredParameters(cluster.parameters, policySet.policies, '--param');
    if (undeclared.length) throw new UsageError(undeclared.join('\n'));
    const loaded: LoadResult = { resources: [], errors: [...policySet.errors], files: 0, skipped: 0 };
    const files = positionals.filter((p) => p !== '-');
    if (files.length) {
      const fromFiles = await loadPaths(files);
      loaded.resources.push(...fromFiles.resources);
      loaded.errors.push(...fromFiles.errors);
      loaded.files += fromFiles.files;
      loaded.skipped += fromFiles.skipped;
    }
    if (positionals.includes('-')) {
      const fromStdin = loadText(await readStdin(), '<stdin>');
      loaded.resources.push(...fromStdin.resources);
      loaded.errors.push(...fromStdin.errors);
      loaded.files += 1;
      loaded.skipped += fromStdin.skipped;
    }

    const timeoutMs = positiveInt('--policy-timeout', values['policy-timeout'], 10_000);
    const runtime = await PolicyRuntime.create(policySet.policies, cluster, { timeoutMs });
    const evaluation = await runtime.evaluate(loaded.resources).finally(() => runtime.close());
    const findings = sortFindings(evaluation.findings);
    const report: LintReport = {
      findings,
      errors: loaded.errors,
      summary: summarize(findings, loaded.errors, {
        files: loaded.files,
        objects: evaluation.objects,
        skipped: loaded.skipped,
        waived: evaluation.waived,
      }),
    };
    const version = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
    const text =
      format === 'json'
        ? formatJson(report)
        : format === 'sarif'
          ? formatSarif(report, policySet.policies, version)
          : format === 'junit'
            ? formatJunit(report, policySet.policies)
            : formatPretty(report, painter(!values.output && useColor(process.stdout)));
    await emit(text, values.output);
    if (report.errors.length) return EXIT_USAGE;
    return failsThreshold(findings, failOn) ? EXIT_FINDINGS : EXIT_OK;
  },
};
