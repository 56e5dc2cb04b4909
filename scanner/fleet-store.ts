import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetClusterInput } from '../src/engine/index.js';
import type { KubeObject } from '../src/model/index.js';
import type { ClusterReport } from './scan.js';
import { Interner } from './intern.js';
import { takeFleetParts, type FleetParts } from './judged.js';
import { RecordOffsets } from './spool.js';

/**
 * The fleet rules' inputs of an unsharded scan, on disk until the fleet pass. Each cluster's fleet index (its
 * objects projected to what fleet policies read) and the object verdicts objectScore needs are written here as the
 * cluster finishes; memory keeps only what every fleet view needs at once: a member per cluster (StoredMember: its
 * name and status, and its labels, layers and actions shared with every cluster that has the same, frozen — about
 * 100 bytes per cluster) and two records' offsets (typed arrays).
 *
 * In the fleet pass a member's `objects` are read back when a rule first asks for them (synchronously: rules are
 * plain functions) and kept in a cache of a fixed size in bytes (see objects()), so memory is bounded by the cache,
 * not by the fleet (a fleet whose indexes fit is read from disk once per cluster).
 * A fleet larger than the cache is read once per sweep of a rule over the clusters (~7 reads per cluster with the
 * built-in packs: each fleet rule, the checks and the verdicts). Equal objects of
 * different clusters (one config repo rolls out the same Services) are parsed once and shared: shared objects are
 * frozen by the fleet evaluation and never changed.
 *
 * A cluster's objects are one record, a line per object (JSON.stringify emits no raw newline); its verdicts another.
 */
export class FleetStore {
  private readonly dir: string;
  private readonly fd: number;
  private size = 0;
  private readonly where = new RecordOffsets();
  private readonly verdictsAt = new RecordOffsets();
  /** Records kept for the whole fleet pass (the first that fit), and the most recently used others. */
  private readonly pinned = new Map<number, { objects: readonly KubeObject[]; bytes: number }>();
  private pinnedBytes = 0;
  private readonly cache = new Map<number, { objects: readonly KubeObject[]; bytes: number }>();
  private cached = 0;
  /** An object's JSON → the object parsed from it (bounded: two generations of `shareLimit`). */
  private shared = new Map<string, KubeObject>();
  private oldShared = new Map<string, KubeObject>();
  private readonly small = new Interner();
  /** Reads from disk (the cache missed): how the cache size is judged. */
  reads = 0;

  constructor(
    /** Bytes of records whose objects stay parsed (their heap is ~2-3 times that). */
    private readonly cacheBytes = 16 * 2 ** 20,
    private readonly shareLimit = 2_000,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'fleetgate-fleet-'));
    try {
      this.fd = openSync(join(this.dir, 'index'), 'w+', 0o600);
    } catch (err) {
      rmSync(this.dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Stores cluster `i`'s fleet index and verdicts (taken off `report`, which goes on without them) and gives the
   * member the fleet rules see, whose `objects` are read back on demand.
   */
  put(i: number, report: ClusterReport): FleetClusterInput {
    return this.putParts(i, takeFleetParts(report));
  }

  /** put() of the parts already taken off the report (and serialized: a worker thread did it, scan-pool.ts). */
  putParts(i: number, parts: FleetParts): FleetClusterInput {
    const w = this.write(parts.lines);
    this.where.set(i, w.at, w.length);
    if (parts.verdicts !== undefined) {
      const v = this.write(parts.verdicts);
      this.verdictsAt.set(i, v.at, v.length);
    }
    const m = parts.member;
    // Only what clusters share is interned (and frozen: the fleet evaluation's views take frozen values as they
    // are); the cluster's own name and status are not, so the interner's table does not grow with the fleet.
    return new StoredMember(this, i, m.name, this.common(m.labels), m.status, m.error, this.common(m.layers), this.common(m.actions));
  }

  private common<T extends object>(v: T): T {
    return deepFreeze(this.small.value(v));
  }

  /**
   * Cluster `i`'s fleet index; the same array while it stays cached (the fleet evaluation indexes it once).
   *
   * Each fleet rule sweeps the clusters in fleet order: a plain most-recently-used cache smaller than the fleet
   * would evict every record before the next sweep asks for it again, and hit nothing (it did: 7 reads per cluster
   * whatever the cache's size). So most of the budget keeps the first records read for the whole pass (each sweep
   * then finds that share of the fleet), and an eighth of it the most recently used ones (a rule looking at a peer
   * cluster, then at the cluster again).
   */
  objects(i: number): readonly KubeObject[] {
    const kept = this.pinned.get(i);
    if (kept) return kept.objects;
    const hit = this.cache.get(i);
    if (hit) {
      this.cache.delete(i);
      this.cache.set(i, hit);
      return hit.objects;
    }
    const w = this.where.get(i);
    const text = this.read(w, i);
    const objects = text ? text.split('\n').map((line) => this.parse(line)) : [];
    const recentBytes = Math.floor(this.cacheBytes / 8);
    if (this.pinnedBytes + w!.length <= this.cacheBytes - recentBytes) {
      this.pinned.set(i, { objects, bytes: w!.length });
      this.pinnedBytes += w!.length;
      return objects;
    }
    this.cache.set(i, { objects, bytes: w!.length });
    this.cached += w!.length;
    for (const [key, old] of this.cache) {
      if (this.cached <= recentBytes || key === i) break;
      this.cache.delete(key);
      this.cached -= old.bytes;
    }
    return objects;
  }

  /** Cluster `i`'s object verdicts (ClusterReport.fleetIndexVerdicts), read from disk. */
  verdicts(i: number): ClusterReport['fleetIndexVerdicts'] {
    const at = this.verdictsAt.get(i);
    return at && (JSON.parse(this.read(at, i)) as ClusterReport['fleetIndexVerdicts']);
  }

  close(): void {
    this.cache.clear();
    this.pinned.clear();
    this.shared.clear();
    this.oldShared.clear();
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private write(text: string): { at: number; length: number } {
    const buf = Buffer.from(text);
    let done = 0;
    while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done, this.size + done);
    const at = this.size;
    this.size += buf.length;
    return { at, length: buf.length };
  }

  private read(w: { at: number; length: number } | undefined, i: number): string {
    if (!w) throw new Error(`fleet store: no cluster ${i}`);
    this.reads++;
    const buf = Buffer.allocUnsafe(w.length);
    let done = 0;
    while (done < w.length) {
      const n = readSync(this.fd, buf, done, w.length - done, w.at + done);
      if (!n) throw new Error(`fleet store: cluster ${i}'s record is cut short`);
      done += n;
    }
    return buf.toString('utf8');
  }

  private parse(line: string): KubeObject {
    const known = this.shared.get(line) ?? this.oldShared.get(line);
    const o = known ?? (JSON.parse(line) as KubeObject);
    if (!this.shared.has(line)) {
      this.shared.set(ownCopy(line), o);
      if (this.shared.size >= this.shareLimit) [this.oldShared, this.shared] = [this.shared, new Map()];
    }
    return o;
  }
}

/**
 * The text of `line` in a string of its own. The lines of a record come from splitting its whole text, and V8 makes
 * each piece a slice that keeps the whole text alive: a line kept as a key of `shared` would keep its record (every
 * other line of the cluster's index) until its generation of the map is dropped. Concatenating makes a flat copy;
 * slicing that copy holds on to the copy alone.
 */
function ownCopy(line: string): string {
  return ` ${line}`.slice(1);
}

/**
 * A cluster as the fleet rules see it, from the fleet store: its objects are read back when first asked for (a
 * getter on the prototype: no closure per cluster).
 */
class StoredMember implements FleetClusterInput {
  declare readonly error?: string;

  constructor(
    private readonly store: FleetStore,
    private readonly i: number,
    readonly name: string,
    readonly labels: Record<string, string>,
    readonly status: FleetClusterInput['status'],
    error: string | undefined,
    readonly layers: string[],
    readonly actions: NonNullable<FleetClusterInput['actions']>,
  ) {
    if (error) this.error = error;
  }

  get objects(): readonly KubeObject[] {
    return this.store.objects(this.i);
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
