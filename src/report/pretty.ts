import { describeRef } from '../model/index.js';
import type { Finding, Severity } from '../model/index.js';
import { BOLD, CYAN, DIM, GREEN, MAGENTA, RED, YELLOW, type Paint } from './colors.js';
import type { LintReport } from './summary.js';

const SEVERITY_COLOR: Record<Severity, number> = { critical: MAGENTA, high: RED, medium: YELLOW, low: CYAN };

function where(f: Finding): string {
  return f.source ? `${f.source.file}:${f.source.line}:${f.source.column}` : describeRef(f.resource);
}

/** Human report: one block per finding, file:line:column first so terminals and editors can jump to it. */
export function formatPretty(report: LintReport, paint: Paint): string {
  const out: string[] = [];
  for (const e of report.errors) {
    const loc = e.line ? `${e.file}:${e.line}${e.column ? `:${e.column}` : ''}` : e.file;
    out.push(`${paint(BOLD, loc)}  ${paint(RED, 'error')}  ${e.message}`);
  }
  for (const f of report.findings) {
    const sev = paint(SEVERITY_COLOR[f.severity], f.severity.padEnd(8));
    const action = f.action === 'deny' ? paint(RED, 'deny ') : f.action === 'warn' ? paint(YELLOW, 'warn ') : paint(DIM, 'audit');
    out.push(`${paint(BOLD, where(f))}  ${sev} ${action}  ${paint(CYAN, f.policy)}${f.error ? paint(RED, ' (policy error)') : ''}`);
    out.push(`    ${f.message}`);
    out.push(paint(DIM, `    ${describeRef(f.resource)}  ${f.path}`));
  }
  const s = report.summary;
  if (out.length) out.push('');
  const counts = (['critical', 'high', 'medium', 'low'] as const)
    .filter((k) => s.bySeverity[k])
    .map((k) => paint(SEVERITY_COLOR[k], `${s.bySeverity[k]} ${k}`))
    .join(', ');
  const head = s.findings
    ? paint(BOLD, `${s.findings} finding${s.findings === 1 ? '' : 's'}`) + ` (${counts}; ${s.byAction.deny} deny, ${s.byAction.warn} warn, ${s.byAction.audit} audit)`
    : paint(GREEN, 'no findings');
  const tail = [`${s.objects} objects in ${s.files} files`];
  if (s.waived) tail.push(`${s.waived} waived by exceptions`);
  if (s.skipped) tail.push(`${s.skipped} non-Kubernetes documents skipped`);
  if (s.errors) tail.push(paint(RED, `${s.errors} input error${s.errors === 1 ? '' : 's'}`));
  out.push(`${head} — ${tail.join(', ')}`);
  return out.join('\n') + '\n';
}
