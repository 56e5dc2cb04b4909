/** The report layer: findings rendered for people and tools (pretty, JSON, SARIF, JUnit), summaries, colours, atomic output. */
export { useColor, painter, RED, GREEN, YELLOW, BLUE, MAGENTA, CYAN, DIM, BOLD } from './colors.js';
export type { Paint } from './colors.js';
export { formatJson } from './json.js';
export { formatJunit, xmlEscape } from './junit.js';
export { formatPretty } from './pretty.js';
export { formatSarif } from './sarif.js';
export { summarize, failsThreshold, sortFindings } from './summary.js';
export type { Summary, LintReport } from './summary.js';
export { emit, writeAtomic } from './write.js';
export { skippedFleetRules, groupAcrossClusters, clusterList } from './fleet.js';
export type { LintFleetSection } from './fleet.js';
