import type { Policy } from '../authoring/index.js';

/**
 * What the composition root (bin/fleetgate) hands every command: the built-in policy packs, loaded on first use.
 * src/ never imports policies/, webhook/ or scanner/; they are wired in there.
 */
export interface CommandEnv {
  builtins(): Promise<readonly Policy[]>;
  /**
   * `lint --fleet FILE`: judging a fleet's config repo needs the scanner's fleet file and desired-state rendering,
   * which src/ does not import; bin/fleetgate wires the scanner's runner in here (loaded only when asked for).
   */
  lintFleet?(): Promise<(argv: string[], env: CommandEnv) => Promise<number>>;
}

/** What every subcommand module exports; `bin/fleetgate` wires webhook/ and scanner/ in lazily, so src/ never imports them. */
export interface Command {
  /** One line for `fleetgate --help`. */
  summary: string;
  /** Full `--help` text. */
  usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[], env: CommandEnv): Promise<number>;
}

export type CommandLoader = () => Promise<Command>;

/** Exit codes shared by every command (DESIGN: 0 clean, 1 findings at/above the threshold, 2 unusable input or arguments). */
export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override name = 'UsageError';
}
