import type { LintReport } from './summary.js';

/** DESIGN's contract: `{ findings, errors, summary }`. */
export function formatJson(report: LintReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
