import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetClusterInput } from '../src/engine/index.js';
import type { KubeObject } from '../src/model/index.js';
import type { ClusterReport } from './scan.js';
import { Interner } from './intern.js';

/**
 * The fleet rules' inputs of an unsharded scan, on disk until the fleet pass. Each cluster's fleet index (its
 * objects projected to what fleet policies read) and the object verdicts objectScore needs are written here as the
 * cluster finishes; memory keeps only what every fleet view needs at once (name, labels, status, layers, actions:
 * a few hundred bytes per cluster, shared between clusters where equal).
 *
 * In the fleet pass a member's `objects` are read back when a rule first asks for them (synchronously: rules are
 * plain functions) and kept in a small most-recently-used cache, so memory is bounded by the cache, not by the fleet.
 * Rules walk the clusters in order and look up a few peers each, so most reads hit the cache. Equal objects of
 * different clusters (one config repo rolls out the same Services) are parsed once and shared: shared objects are
 * frozen by the fleet evaluation and never changed.
 *
 * A record is one line per object (JSON.stringify emits no raw newline), the verdicts first.
 */
export class FleetStore {
  private readonly dir: string;
  private readonly fd: number;
  private size = 0;
  private readonly where: { at: number; length: number }[] = [];
  private readonly cache = new Map<number, readonly KubeObject[]>();
  /** An object's JSON → the object parsed from it (bounded: two generations of `shareLimit`). */
  private shared = new Map<string, KubeObject>();
  private oldShared = new Map<string, KubeObject>();
  private readonly small = new Interner();
  /** Reads from disk (the cache missed): how the cache size is judged. */
  reads = 0;

  constructor(
    private readonly cacheSize = 512,
    private readonly shareLimit = 20_000,
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
    const lines = [JSON.stringify(report.fleetIndexVerdicts ?? null), ...(report.fleetIndex ?? []).map((o) => JSON.stringify(o))];
    const buf = Buffer.from(lines.join('\n'));
    let done = 0;
    while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done, this.size + done);
    this.where[i] = { at: this.size, length: buf.length };
    this.size += buf.length;
    const store = this;
    const member = this.small.value({
      name: report.name,
      labels: report.labels,
      status: report.status,
      ...(report.error ? { error: report.error } : {}),
      layers: report.layers,
      actions: report.fleetActions ?? {},
    });
    delete report.fleetIndex;
    delete report.fleetActions;
    delete report.fleetIndexVerdicts;
    return {
      ...member,
      get objects() {
        return store.objects(i);
      },
    };
  }

  /** Cluster `i`'s fleet index; the same array while it stays cached (the fleet evaluation indexes it once). */
  objects(i: number): readonly KubeObject[] {
    const hit = this.cache.get(i);
    if (hit) {
      this.cache.delete(i);
      this.cache.set(i, hit);
      return hit;
    }
    const lines = this.record(i);
    const objects = lines.slice(1).map((line) => this.parse(line));
    this.cache.set(i, objects);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return objects;
  }

  /** Cluster `i`'s object verdicts (ClusterReport.fleetIndexVerdicts), read from disk. */
  verdicts(i: number): ClusterReport['fleetIndexVerdicts'] {
    const first = this.record(i)[0];
    return (JSON.parse(first) as ClusterReport['fleetIndexVerdicts'] | null) ?? undefined;
  }

  close(): void {
    this.cache.clear();
    this.shared.clear();
    this.oldShared.clear();
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private record(i: number): string[] {
    const w = this.where[i];
    if (!w) throw new Error(`fleet store: no cluster ${i}`);
    this.reads++;
    const buf = Buffer.allocUnsafe(w.length);
    let done = 0;
    while (done < w.length) {
      const n = readSync(this.fd, buf, done, w.length - done, w.at + done);
      if (!n) throw new Error(`fleet store: cluster ${i}'s record is cut short`);
      done += n;
    }
    return buf.toString('utf8').split('\n');
  }

  private parse(line: string): KubeObject {
    const known = this.shared.get(line) ?? this.oldShared.get(line);
    const o = known ?? (JSON.parse(line) as KubeObject);
    if (!this.shared.has(line)) {
      this.shared.set(line, o);
      if (this.shared.size >= this.shareLimit) [this.oldShared, this.shared] = [this.shared, new Map()];
    }
    return o;
  }
}
