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
 * found by key (offset and length kept in memory: a few bytes per cluster).
 */
export class Spool<T> {
  private size = 0;
  private readonly where = new Map<number, { at: number; length: number }>();

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
    return this.where.size;
  }

  /** Stores `value` under `key` (a key written again points to the new record). */
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
    this.where.set(key, { at, length: buf.length });
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
