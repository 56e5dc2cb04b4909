import { loadPolicySet } from '../loading/index.js';
import { emit } from '../report/index.js';
import { EXIT_OK, EXIT_USAGE, type Command } from './command.js';
import { parseArgs } from 'node:util';
import { oneOf } from './options.js';

const usage = `Usage: fleetgate policies [options]

Lists the loaded policies: id, area, severity, action, scope and title.

Options:
  --policies PATH     also load user policies (.ts/.js) from a file or folder (repeatable)
  --format FORMAT     table (default), json or markdown
`;

export const command: Command = {
  summary: 'list the loaded policies (id, area, severity, action, scope, title)',
  usage,
  async run(argv, env) {
    const { values } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { policies: { type: 'string', multiple: true }, format: { type: 'string' } } });
    const format = oneOf('--format', values.format, ['table', 'json', 'markdown'] as const, 'table');
    const { policies, errors } = await loadPolicySet(values.policies ?? [], { builtins: await env.builtins() });
    for (const e of errors) process.stderr.write(`fleetgate policies: ${e.file}: ${e.message}\n`);
    const rows = policies.map((p) => ({
      id: p.id,
      area: p.area,
      severity: p.severity,
      action: p.action,
      scope: p.scope,
      title: p.title,
      ...(p.file ? { file: p.file } : {}),
    }));
    let text: string;
    if (format === 'json') text = JSON.stringify(rows, null, 2) + '\n';
    else if (format === 'markdown') {
      text =
        '| id | area | severity | action | scope | title |\n|---|---|---|---|---|---|\n' +
        rows.map((r) => `| \`${r.id}\` | ${r.area} | ${r.severity} | ${r.action} | ${r.scope} | ${r.title.replace(/\|/g, '\\|')} |`).join('\n') +
        '\n';
    } else {
      const cols = ['id', 'area', 'severity', 'action', 'scope', 'title'] as const;
      const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
      const line = (vals: string[]) => vals.map((v, i) => (i === cols.length - 1 ? v : v.padEnd(width[i]))).join('  ');
      text = [line(cols.map((c) => c.toUpperCase())), ...rows.map((r) => line(cols.map((c) => String(r[c]))))].join('\n') + '\n';
    }
    await emit(text, undefined);
    return errors.length ? EXIT_USAGE : EXIT_OK;
  },
};
