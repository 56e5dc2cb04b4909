/** The report layer: findings rendered for people and tools (pretty, JSON, SARIF, JUnit), summaries, colours, atomic output. */
export { useColor, painter, RED, GREEN, YELLOW, BLUE, MAGENTA, CYAN, DIM, BOLD } from './colors.js';
export type { Paint } from './colors.js';
export { formatJson, jsonReportChunks } from './json.js';
export { formatJunit, xmlEscape } from './junit.js';
export { formatPretty } from './pretty.js';
export { formatSarif, sarifChunks } from './sarif.js';
export { summarize, failsThreshold, sortFindings, compareFindings } from './summary.js';
export type { Summary, LintReport } from './summary.js';
export { emit, writeAtomic } from './write.js';
export { FindingStore } from './finding-store.js';
export { emitChunks, jsonChunks, ITEMS } from './stream.js';
export { skippedFleetRules, groupAcrossClusters, clusterList } from './fleet.js';
export type { LintFleetSection } from './fleet.js';
