import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A scan's cluster reports on disk while the scan runs. A cluster's report is final only once every cluster has
 * been read (fleet-scope rules add findings to it and rescore it), and reports go out in fleet order while clusters
 * finish in any order: each report is written here as its cluster finishes and read back, one at a time, when the
 * writers need it, so the scan holds one report per cluster in flight, not one per cluster of the fleet.
 *
 * A file in a fresh folder under the system's temporary folder (TMPDIR), removed by close(). Records are JSON,
 * found by key: a small integer (a cluster's position), whose offset and length are kept in memory in typed arrays
 * (16 bytes per record, not an object and a map entry each).
 */
export class Spool<T> {
  private size = 0;
  private readonly where = new RecordOffsets();

  private constructor(
    private readonly dir: string,
    private readonly file: FileHandle,
  ) {}

  static async create<T>(prefix = 'fleetgate-scan-'): Promise<Spool<T>> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    try {
      return new Spool<T>(dir, await open(join(dir, 'spool'), 'w+', 0o600));
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get count(): number {
    return this.where.count;
  }

  /** Stores `value` under `key`, a non-negative integer (a key written again points to the new record). */
  async put(key: number, value: T): Promise<void> {
    return this.putBytes(key, Buffer.from(JSON.stringify(value)));
  }

  async get(key: number): Promise<T> {
    return JSON.parse((await this.getBytes(key)).toString('utf8')) as T;
  }

  /** Stores the bytes of a record already serialized (scanner/record.ts) under `key`. */
  async putBytes(key: number, buf: Uint8Array): Promise<void> {
    // The place is taken before the write starts: concurrent puts never overlap.
    const at = this.size;
    this.size += buf.length;
    this.where.set(key, at, buf.length);
    let done = 0;
    while (done < buf.length) done += (await this.file.write(buf, done, buf.length - done, at + done)).bytesWritten;
  }

  async getBytes(key: number): Promise<Buffer> {
    const w = this.where.get(key);
    if (!w) throw new Error(`spool: no record ${key}`);
    const buf = Buffer.allocUnsafe(w.length);
    let done = 0;
    while (done < w.length) {
      const { bytesRead } = await this.file.read(buf, done, w.length - done, w.at + done);
      if (!bytesRead) throw new Error(`spool: record ${key} is cut short`);
      done += bytesRead;
    }
    return buf;
  }

  async close(): Promise<void> {
    await this.file.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Where records lie in a file, by small integer key: offsets and lengths in growable Float64Arrays (offsets pass
 * 2^32 bytes: a 10,000-cluster spool is ~5 GB), -1 for a key never written. A store with one record per cluster
 * keeps 16 bytes per cluster, where a Map of `{ at, length }` objects kept ~100.
 */
export class RecordOffsets {
  private at = new Float64Array(64).fill(-1);
  private length = new Float64Array(64);
  /** Keys written. */
  count = 0;

  set(key: number, at: number, length: number): void {
    if (!Number.isInteger(key) || key < 0) throw new Error(`record key ${key} is not a non-negative integer`);
    if (key >= this.at.length) this.grow(key);
    if (this.at[key] < 0) this.count++;
    this.at[key] = at;
    this.length[key] = length;
  }

  get(key: number): { at: number; length: number } | undefined {
    const at = key >= 0 && key < this.at.length ? this.at[key] : -1;
    return at >= 0 ? { at, length: this.length[key] } : undefined;
  }

  private grow(key: number): void {
    const size = Math.max(key + 1, this.at.length * 2);
    const at = new Float64Array(size).fill(-1);
    at.set(this.at);
    const length = new Float64Array(size);
    length.set(this.length);
    this.at = at;
    this.length = length;
  }
}
