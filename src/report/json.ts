import type { LintReport } from './summary.js';
import { ITEMS, jsonChunks } from './stream.js';

/** DESIGN's contract: `{ findings, errors, summary }`. */
export function formatJson(report: LintReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}

/** `formatJson` in pieces, one finding at a time (for `emitChunks`). */
export function jsonReportChunks(report: LintReport): Iterable<string> {
  return jsonChunks({ ...report, findings: ITEMS }, report.findings);
}
