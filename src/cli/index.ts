/**
 * The CLI layer: the command kit every subcommand uses (exit codes, usage errors, shared option parsing) and the
 * dispatcher. lint, test and policies live here; serve and scan are applications wired in by bin/fleetgate.
 */
export { EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, UsageError } from './command.js';
export type { Command, CommandEnv, CommandLoader } from './command.js';
export { SHARED_FLAGS, pickFlags, type SharedFlag } from './flags.js';
export { clusterContextFromFlags, parametersFromFlags, oneOf, severityThreshold, readStdin, positiveInt } from './options.js';
export { main, BUILTIN_COMMANDS } from './main.js';
