import type { ScoreFacts } from './fleet-rules.js';
import type { ClusterStatus } from './scan.js';
import type { ObjectScoreParts } from './score.js';

/**
 * The score facts of every cluster of a streamed scan (stream.ts), kept while the reports wait in the spool: a few
 * numbers per cluster in typed arrays (57 bytes a cluster, and the name, a string the fleet already holds), not an
 * object of eight members, its floats boxed, per cluster. `get` gives a cluster's facts back as a ScoreFacts.
 * Weights are integers and scores one-decimal numbers: a Float64Array keeps them exactly. What is kept besides the
 * numbers is whether each of the nullable or optional ones was null or absent, so a fact reads back as it was put.
 *
 * The object verdicts of a cluster's fleet index (ScoreFacts.fleetIndexVerdicts) are not kept: an unsharded scan
 * keeps them in the fleet store, and a shard or a merge never reads them from its facts.
 */

const STATUS: readonly ClusterStatus[] = ['ok', 'unreachable', 'error'];
// flags: what of a cluster's facts is null or absent, and whether the fleet pass rescored its objectScore
const SCORE_NULL = 1;
const OBJECT_SCORE_NULL = 2;
const OBJECT_SCORE_ABSENT = 4;
const OBJECT_TOTAL_ABSENT = 8;
const OBJECT_PASSED_ABSENT = 16;
const RESCORED = 32;

export class ScoreFactsTable {
  private readonly names: string[] = [];
  private status: Uint8Array;
  private flags: Uint8Array;
  /** Per cluster: score, totalWeight, passedWeight, objectScore, objectTotalWeight, objectPassedWeight. */
  private numbers: Float64Array;

  /** `capacity`: the clusters expected (more may be put: the table grows). */
  constructor(capacity = 64) {
    this.status = new Uint8Array(Math.max(1, capacity));
    this.flags = new Uint8Array(this.status.length);
    this.numbers = new Float64Array(this.status.length * 6);
  }

  /** Cluster `i`'s facts; `name` is the cluster's name (the fleet's own string rather than a copy, when given). */
  put(i: number, f: ScoreFacts, name = f.name): void {
    if (i >= this.status.length) this.grow(i + 1);
    this.names[i] = name;
    this.status[i] = Math.max(0, STATUS.indexOf(f.status));
    const n = this.numbers;
    const at = i * 6;
    let flags = 0;
    if (f.score === null) flags |= SCORE_NULL;
    else n[at] = f.score;
    n[at + 1] = f.totalWeight;
    n[at + 2] = f.passedWeight;
    if (f.objectScore === undefined) flags |= OBJECT_SCORE_ABSENT;
    else if (f.objectScore === null) flags |= OBJECT_SCORE_NULL;
    else n[at + 3] = f.objectScore;
    if (f.objectTotalWeight === undefined) flags |= OBJECT_TOTAL_ABSENT;
    else n[at + 4] = f.objectTotalWeight;
    if (f.objectPassedWeight === undefined) flags |= OBJECT_PASSED_ABSENT;
    else n[at + 5] = f.objectPassedWeight;
    this.flags[i] = flags;
  }

  private grow(least: number): void {
    const size = Math.max(least, this.status.length * 2);
    const status = new Uint8Array(size);
    status.set(this.status);
    const flags = new Uint8Array(size);
    flags.set(this.flags);
    const numbers = new Float64Array(size * 6);
    numbers.set(this.numbers);
    [this.status, this.flags, this.numbers] = [status, flags, numbers];
  }

  get(i: number): ScoreFacts {
    const n = this.numbers;
    const at = i * 6;
    const flags = this.flags[i];
    const f: ScoreFacts = {
      name: this.names[i],
      status: STATUS[this.status[i]],
      score: flags & SCORE_NULL ? null : n[at],
      totalWeight: n[at + 1],
      passedWeight: n[at + 2],
    };
    if (!(flags & OBJECT_SCORE_ABSENT)) f.objectScore = flags & OBJECT_SCORE_NULL ? null : n[at + 3];
    if (!(flags & OBJECT_TOTAL_ABSENT)) f.objectTotalWeight = n[at + 4];
    if (!(flags & OBJECT_PASSED_ABSENT)) f.objectPassedWeight = n[at + 5];
    return f;
  }

  /** The objectScore parts the fleet pass gave cluster `i` (stream.ts rescoreObjects): its facts hold them now. */
  rescore(i: number, parts: ObjectScoreParts): void {
    const at = i * 6;
    this.numbers[at + 3] = parts.objectScore;
    this.numbers[at + 4] = parts.objectTotalWeight;
    this.numbers[at + 5] = parts.objectPassedWeight;
    this.flags[i] = (this.flags[i] & ~(OBJECT_SCORE_NULL | OBJECT_SCORE_ABSENT | OBJECT_TOTAL_ABSENT | OBJECT_PASSED_ABSENT)) | RESCORED;
  }

  /** What rescore() gave cluster `i`, as its report gets it when read back; undefined when the pass did not rescore it. */
  rescored(i: number): ObjectScoreParts | undefined {
    if (!(this.flags[i] & RESCORED)) return undefined;
    const at = i * 6;
    return { objectScore: this.numbers[at + 3], objectTotalWeight: this.numbers[at + 4], objectPassedWeight: this.numbers[at + 5] };
  }
}
