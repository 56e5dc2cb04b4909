import type { Finding } from '../model/index.js';
import type { LintReport } from './summary.js';
import { ITEMS, jsonChunks } from './stream.js';

/** DESIGN's contract: `{ findings, errors, summary }`. */
export function formatJson(report: LintReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}

/**
 * `formatJson` in pieces, one finding at a time (for `emitChunks`); `findings` (default: the report's) may be
 * made one at a time too (lint's FindingStore).
 */
export function jsonReportChunks(report: LintReport, findings: Iterable<Finding> = report.findings): Iterable<string> {
  return jsonChunks({ ...report, findings: ITEMS }, findings);
}
