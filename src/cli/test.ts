import { loadPolicySet } from '../loading/index.js';
import { painter, useColor, GREEN, RED, BOLD } from '../report/index.js';
import { emit } from '../report/index.js';
import { runPolicyExamples, runTestFiles, type CaseResult } from '../loading/index.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, type Command } from './command.js';
import { parseArgs } from 'node:util';
import { oneOf } from './options.js';
import { pushAll } from '../model/index.js';
import { pickFlags } from './flags.js';

const usage = `Usage: fleetgate test [options] [PATH...]

Runs every loaded policy's own pass/fail examples, then the PolicyTest files found under PATH
(files or folders). A failing case shows the policy, the case and what differed.

Options:
  --policies PATH     load user policies (.ts/.js) from a file or folder (repeatable); their examples run too
  --format FORMAT     pretty (default) or json
  --no-builtins       skip the built-in policies' examples: run only the policies given with --policies
                      (and the test files, which may then name only those)

Exit codes: 0 every case passed, 1 a case failed, 2 unusable input (a policy or test file that does not load).
`;

export const command: Command = {
  summary: "run every policy's examples and user PolicyTest files",
  usage,
  async run(argv, env) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
      ...pickFlags('policies', 'format', 'no-builtins'),
    } });
    const format = oneOf('--format', values.format, ['pretty', 'json'] as const, 'pretty');
    const { policies, errors } = await loadPolicySet(values.policies ?? [], { builtins: values['no-builtins'] ? [] : await env.builtins() });
    const results: CaseResult[] = policies.flatMap((p) => runPolicyExamples(p));
    if (positionals.length) {
      const files = await runTestFiles(positionals, policies);
      pushAll(results, files.results);
      pushAll(errors, files.errors);
    }
    const failed = results.filter((r) => !r.ok);
    if (format === 'json') {
      await emit(JSON.stringify({ results, errors, summary: { cases: results.length, failed: failed.length, errors: errors.length } }, null, 2) + '\n', undefined);
    } else {
      const paint = painter(useColor(process.stdout));
      const lines: string[] = [];
      for (const e of errors) lines.push(`${paint(RED, 'error')} ${e.file}${e.line ? `:${e.line}` : ''}: ${e.message}`);
      for (const r of failed) lines.push(`${paint(RED, 'FAIL')} ${paint(BOLD, r.policy)} › ${r.name}${r.file ? ` (${r.file})` : ''}\n     ${r.detail}`);
      const policiesRun = new Set(results.map((r) => r.policy)).size;
      lines.push(
        failed.length || errors.length
          ? paint(RED, `${failed.length} of ${results.length} cases failed across ${policiesRun} policies${errors.length ? `, ${errors.length} errors` : ''}`)
          : paint(GREEN, `${results.length} cases passed across ${policiesRun} policies`),
      );
      lines.push(`${results.length - failed.length} passed, ${failed.length} failed`);
      await emit(lines.join('\n') + '\n', undefined);
    }
    if (errors.length) return EXIT_USAGE;
    return failed.length ? EXIT_FINDINGS : EXIT_OK;
  },
};
