import { describeRef } from '../model/index.js';
import type { Finding, Severity } from '../model/index.js';
import { BOLD, CYAN, DIM, GREEN, MAGENTA, RED, YELLOW, type Paint } from './colors.js';
import type { LintReport } from './summary.js';

const SEVERITY_COLOR: Record<Severity, number> = { critical: MAGENTA, high: RED, medium: YELLOW, low: CYAN };

function where(f: Finding): string {
  return f.source ? `${f.source.file}:${f.source.line}:${f.source.column}` : describeRef(f.resource);
}

const RANK: Record<Severity, number> = { critical: 3, high: 2, medium: 1, low: 0 };

export interface PrettyOptions {
  /** Show only findings at or above this severity (display only: the summary and exit code count them all). */
  minSeverity?: Severity;
}

/**
 * Human report: one block per finding, file:line:column first so terminals and editors can jump to it; then one
 * line per policy (most findings first) and the totals.
 */
export function formatPretty(report: LintReport, paint: Paint, opts: PrettyOptions = {}): string {
  const out: string[] = [];
  const min = opts.minSeverity ? RANK[opts.minSeverity] : 0;
  const shown = report.findings.filter((f) => RANK[f.severity] >= min);
  for (const e of report.errors) {
    const loc = e.line ? `${e.file}:${e.line}${e.column ? `:${e.column}` : ''}` : e.file;
    out.push(`${paint(BOLD, loc)}  ${paint(RED, 'error')}  ${e.message}`);
  }
  for (const f of shown) {
    const sev = paint(SEVERITY_COLOR[f.severity], f.severity.padEnd(8));
    const action = f.action === 'deny' ? paint(RED, 'deny ') : f.action === 'warn' ? paint(YELLOW, 'warn ') : paint(DIM, 'audit');
    out.push(`${paint(BOLD, where(f))}  ${sev} ${action}  ${paint(CYAN, f.policy)}${f.error ? paint(RED, ' (policy error)') : ''}`);
    out.push(`    ${f.message}`);
    out.push(paint(DIM, `    ${describeRef(f.resource)}  ${f.path}`));
  }
  const s = report.summary;
  if (out.length) out.push('');
  if (shown.length) {
    out.push(paint(BOLD, 'By policy'));
    out.push(...byPolicy(shown, paint), '');
  }
  if (shown.length < report.findings.length)
    out.push(paint(DIM, `${report.findings.length - shown.length} finding${report.findings.length - shown.length === 1 ? '' : 's'} below ${opts.minSeverity} not shown (--severity)`), '');
  const counts = (['critical', 'high', 'medium', 'low'] as const)
    .filter((k) => s.bySeverity[k])
    .map((k) => paint(SEVERITY_COLOR[k], `${s.bySeverity[k]} ${k}`))
    .join(', ');
  const head = s.findings
    ? paint(BOLD, `${s.findings} finding${s.findings === 1 ? '' : 's'}`) + ` (${counts}; ${s.byAction.deny} deny, ${s.byAction.warn} warn, ${s.byAction.audit} audit)`
    : paint(GREEN, 'no findings');
  const tail = [`${s.objects} objects in ${s.files} files`];
  if (s.waived) tail.push(`${s.waived} waived by exceptions`);
  if (s.exempt) tail.push(`${s.exempt} exempt`);
  if (s.skipped) tail.push(`${s.skipped} non-Kubernetes documents skipped`);
  if (s.errors) tail.push(paint(RED, `${s.errors} input error${s.errors === 1 ? '' : 's'}`));
  out.push(`${head} — ${tail.join(', ')}`);
  return out.join('\n') + '\n';
}

/** `  policy  severity  N findings (deny …)` per policy, most findings first. */
function byPolicy(findings: readonly Finding[], paint: Paint): string[] {
  const by = new Map<string, { severity: Severity; n: number; actions: Set<string> }>();
  for (const f of findings) {
    const e = by.get(f.policy) ?? { severity: f.severity, n: 0, actions: new Set<string>() };
    e.n++;
    e.actions.add(f.action);
    by.set(f.policy, e);
  }
  const rows = [...by].sort(([a, x], [b, y]) => y.n - x.n || RANK[y.severity] - RANK[x.severity] || (a < b ? -1 : 1));
  const width = Math.max(...rows.map(([id]) => id.length));
  return rows.map(
    ([id, e]) => `  ${paint(CYAN, id.padEnd(width))}  ${paint(SEVERITY_COLOR[e.severity], e.severity.padEnd(8))} ${String(e.n).padStart(4)} finding${e.n === 1 ? ' ' : 's'}  ${[...e.actions].sort().join(', ')}`,
  );
}
