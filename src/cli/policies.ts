import { effectiveActions, rolloutsAmong } from '../engine/index.js';
import { loadPaths, loadPolicySet } from '../loading/index.js';
import { emit } from '../report/index.js';
import { EXIT_OK, EXIT_USAGE, type Command } from './command.js';
import { parseArgs } from 'node:util';
import { clusterContextFromFlags, oneOf } from './options.js';
import { pickFlags } from './flags.js';

const usage = `Usage: fleetgate policies [options]

Lists the loaded policies: id, area, severity, action, scope and title. Given a cluster's labels, action
overrides or PolicyRollouts, the action is the one the policy has on that cluster, and FROM says where it comes
from: default, actions, rollout NAME stage N (or before), override (--action).

Options:
  --policies PATH            also load user policies (.ts/.js) from a file or folder (repeatable)
  --cluster-label KEY=VALUE  labels of the cluster to show effective actions for (repeatable): cohort=1, ...
  --action ID=ACTION         an action override of that cluster (repeatable; ID may be a glob)
  --rollouts PATH            files or folders holding PolicyRollouts, e.g. the config repo (repeatable)
  --format FORMAT            table (default), json or markdown
`;

export const command: Command = {
  summary: 'list the loaded policies (id, area, severity, action, scope, title)',
  usage,
  async run(argv, env) {
    const { values } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
      ...pickFlags('policies', 'format', 'cluster-label', 'action'),
      rollouts: { type: 'string', multiple: true },
    } });
    const format = oneOf('--format', values.format, ['table', 'json', 'markdown'] as const, 'table');
    const { policies, errors } = await loadPolicySet(values.policies ?? [], { builtins: await env.builtins() });
    for (const e of errors) process.stderr.write(`fleetgate policies: ${e.file}: ${e.message}\n`);
    const cluster = clusterContextFromFlags(values['cluster-label'], values.action);
    const explain = !!(values['cluster-label'] || values.action || values.rollouts);
    const found = values.rollouts ? await loadPaths(values.rollouts, { positions: false }) : undefined;
    for (const e of found?.errors ?? []) process.stderr.write(`fleetgate policies: ${e.file}${e.line ? `:${e.line}` : ''}: ${e.message}\n`);
    const { rollouts, invalid } = rolloutsAmong((found?.resources ?? []).map((r) => r.object));
    for (const i of invalid) process.stderr.write(`fleetgate policies: PolicyRollout ${i.object.metadata?.name ?? '?'}: ${i.message}\n`);
    const effective = effectiveActions(policies, {}, cluster.actions ?? {}, rollouts, { labels: cluster.labels ?? {} });
    const rows = policies.map((p) => ({
      id: p.id,
      area: p.area,
      severity: p.severity,
      action: explain ? effective.get(p.id)!.action : p.action,
      ...(explain ? { from: effective.get(p.id)!.from } : {}),
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
      const cols = explain ? (['id', 'area', 'severity', 'action', 'from', 'scope', 'title'] as const) : (['id', 'area', 'severity', 'action', 'scope', 'title'] as const);
      const cell = (r: (typeof rows)[number], c: (typeof cols)[number]) => String((r as Record<string, unknown>)[c] ?? '');
      const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r, c).length)));
      const line = (vals: string[]) => vals.map((v, i) => (i === cols.length - 1 ? v : v.padEnd(width[i]))).join('  ');
      text = [line(cols.map((c) => c.toUpperCase())), ...rows.map((r) => line(cols.map((c) => cell(r, c))))].join('\n') + '\n';
    }
    await emit(text, undefined);
    return errors.length || found?.errors.length || invalid.length ? EXIT_USAGE : EXIT_OK;
  },
};
