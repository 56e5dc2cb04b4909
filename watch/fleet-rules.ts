import type { Policy } from '../src/index.js';
import type { FleetClusterInput, FleetFinding, FleetRuleResult } from '../src/engine/index.js';
import { fleetTallies, runFleetRules, type FleetResult, type FleetRulesContext } from '../scanner/fleet-rules.js';
import type { PolicyTally } from '../scanner/score.js';

/**
 * Fleet-scope rules in the watch. They read every cluster's small index (the kinds they declare, and Namespaces),
 * so they cannot be re-run per event: a change of an object of such a kind anywhere in the fleet, or a cluster
 * going up or down, marks them due, and they re-run at most once per FLEET_RULES_INTERVAL_MS, over the indexes as
 * they are then. A cluster that is not synced or cannot be read goes in with its status, so the rules list it as
 * unknown rather than passing what they would have said about it.
 *
 * The result is kept (not recomputed per request): /metrics and /report.json read the same evaluation.
 */

export const FLEET_RULES_INTERVAL_MS = 1000;

/** What a cluster gets back from a run: its fleet findings and the tallies its score weighs. */
export interface FleetPart {
  findings: readonly FleetFinding[];
  tallies: Readonly<Record<string, PolicyTally>>;
}

export interface FleetMember {
  readonly name: string;
  fleetInput(): FleetClusterInput;
  setFleetPart(part: FleetPart): void;
}

const EMPTY: FleetResult = { rules: [], policies: [], findings: new Map(), checks: {}, objects: new Map() };

export class FleetRules {
  private timer?: NodeJS.Timeout;
  private lastRun = -Infinity;
  private due = true;
  /** Arrival times of the changes the next run will reflect (the detect histogram). */
  private pending: number[] = [];
  private stopped = false;
  result: FleetResult = EMPTY;
  rules: FleetRuleResult[] = [];
  /** Runs so far and the time the last took (logs, the bench). */
  runs = 0;
  lastMs = 0;

  constructor(
    private readonly policies: readonly Policy[],
    private readonly context: FleetRulesContext,
    private readonly members: readonly FleetMember[],
    private readonly detected: (seconds: number) => void,
  ) {}

  /** Something the rules read changed (`arrived`: when the change reached the watch, for the histogram). */
  changed(arrived?: number): void {
    this.due = true;
    if (arrived !== undefined) this.pending.push(arrived);
    if (this.timer || this.stopped) return;
    const wait = Math.max(0, this.lastRun + FLEET_RULES_INTERVAL_MS - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, wait);
    this.timer.unref();
  }

  /** Brings the result up to date now when a change is waiting (a report is asked for). */
  flush(): void {
    if (!this.due) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.run();
  }

  private run(): void {
    if (this.stopped) return;
    const t0 = performance.now();
    this.due = false;
    this.lastRun = t0;
    const result = runFleetRules(this.members.map((m) => m.fleetInput()), this.policies, this.context);
    this.result = result;
    this.rules = result.rules;
    for (const m of this.members) {
      const mine = result.findings.get(m.name) ?? [];
      m.setFleetPart({ findings: mine, tallies: fleetTallies(this.policies, result.checks, m.name, mine) });
    }
    const now = performance.now();
    for (const t of this.pending) this.detected((now - t) / 1000);
    this.pending = [];
    this.runs++;
    this.lastMs = now - t0;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
