import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { migrate, SCHEMA_VERSION, type Database, type Engine } from './schema.js';

/**
 * Opening a history store: `postgres://…` (or `postgresql://…`) is PostgreSQL through `pg`; anything else is a file
 * path for the embedded SQLite store (better-sqlite3; an optional `sqlite:` prefix is accepted). Pending
 * migrations are applied on open; a store written by a newer fleetgate is refused.
 * Every failure becomes a HistoryError whose message says what is wrong in the operator's terms (locked, full,
 * unreachable, corrupted, newer schema) and never contains the URL's password.
 */

export type HistoryErrorKind = 'locked' | 'full' | 'unreachable' | 'corrupt' | 'newer-schema' | 'usage' | 'failed';

export class HistoryError extends Error {
  override name = 'HistoryError';
  constructor(
    readonly kind: HistoryErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface Store {
  db: Kysely<Database>;
  engine: Engine;
  /** The URL without its password, for messages. */
  where: string;
  /** Runs `fn` and turns driver errors into HistoryErrors. */
  guard<T>(doing: string, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** The embedded store's connection (Kysely's only one), for bulk inserts with a prepared statement. */
  sqlite?: import('better-sqlite3').Database;
}

export interface OpenOptions {
  /** How long a write waits for another writer of the embedded store (ms). */
  busyTimeoutMs?: number;
  /** Refuse to create a new embedded store (the history commands only read). */
  mustExist?: boolean;
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@').replace(/([?&]password=)[^&]*/i, '$1***');
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

const SQLITE_MAGIC = 'SQLite format 3\0';

/** Explains a driver error in terms of what the operator can do about it. */
export function explain(err: unknown, where: string, doing: string): HistoryError {
  if (err instanceof HistoryError) return err;
  const e = err as { code?: string; message?: string; errors?: { code?: string; message?: string }[] };
  const code = e.code ?? e.errors?.[0]?.code ?? '';
  const msg = (e.message || e.errors?.[0]?.message || String(err)).replace(/postgres(ql)?:\/\/\S+/gi, (u) => redactUrl(u));
  const at = `history store ${where}`;
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_LOCKED') || code === 'SQLITE_BUSY_TIMEOUT' || code === '55P03' || code === '40P01')
    return new HistoryError('locked', `${at} is locked by another writer (${doing}): ${msg}; try again when it is done`);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === '53100' || code === '53200')
    return new HistoryError('full', `${at} is full (${doing}): ${msg}; free space or lower --history-keep`);
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_IOERR_SHORT_READ')
    return new HistoryError('corrupt', `${at} is corrupted (${doing}): ${msg}; restore it from a backup or move it away to start a new one`);
  if (
    ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN', '57P01', '57P03', '3D000', '28P01', '28000', 'SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_PERM', 'EACCES'].includes(code) ||
    /timeout exceeded when trying to connect|Connection terminated/i.test(msg)
  )
    return new HistoryError('unreachable', `${at} cannot be reached (${doing}): ${msg}`);
  return new HistoryError('failed', `${at}: ${doing} failed: ${msg}`);
}

function checkSqliteFile(file: string, mustExist: boolean): void {
  if (!existsSync(file)) {
    if (mustExist) throw new HistoryError('usage', `no history store at ${file} (scan --history ${file} writes one)`);
    if (!existsSync(dirname(file))) throw new HistoryError('unreachable', `history store ${file}: the folder ${dirname(file)} does not exist`);
    return;
  }
  if (!statSync(file).isFile()) throw new HistoryError('unreachable', `history store ${file} is not a file`);
  // A file that is not SQLite (or whose header was overwritten) is refused before anything reads or writes it.
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(16);
  const n = readSync(fd, head, 0, 16, 0);
  closeSync(fd);
  if (n > 0 && head.toString('latin1', 0, n) !== SQLITE_MAGIC.slice(0, n))
    throw new HistoryError('corrupt', `history store ${file} is corrupted: not a SQLite database (bad header); restore it from a backup or move it away to start a new one`);
}

/**
 * The file's header is checked on open; a damaged page further in is reported by SQLite itself (SQLITE_CORRUPT) on
 * the first read that touches it, which explain() turns into a "corrupted" error: never read silently.
 */
async function openSqlite(path: string, opts: OpenOptions): Promise<{ db: Kysely<Database>; raw: import('better-sqlite3').Database }> {
  const file = resolve(path.replace(/^sqlite:(\/\/)?/i, ''));
  checkSqliteFile(file, !!opts.mustExist);
  const { default: BetterSqlite } = await import('better-sqlite3');
  let raw;
  try {
    raw = new BetterSqlite(file, { timeout: opts.busyTimeoutMs ?? 5000 });
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    // A run reads and moves spans all over the store's b-trees: 64 MiB of page cache instead of SQLite's 2 MiB keeps
    // the pages it comes back to in memory (the write of a nightly run of 950,000 findings went from 25 to ~3 µs each).
    raw.pragma('cache_size = -65536');
  } catch (err) {
    throw explain(err, file, 'opening');
  }
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) }), raw };
}

async function openPostgres(url: string): Promise<Kysely<Database>> {
  const { default: pg } = await import('pg');
  // Counts and ids come back as numbers, not strings (bigint values here are row counts, far below 2^53).
  pg.types.setTypeParser(20, (v: string) => Number(v));
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => {}); // an idle client's connection dropping must not take the process down
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

export async function openStore(url: string, opts: OpenOptions = {}): Promise<Store> {
  if (!url) throw new HistoryError('usage', '--history needs a file path or a postgres:// URL');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !isPostgresUrl(url) && !/^sqlite:/i.test(url))
    throw new HistoryError('usage', `--history ${redactUrl(url)}: give a file path (embedded store) or a postgres:// URL`);
  const engine: Engine = isPostgresUrl(url) ? 'postgres' : 'sqlite';
  const where = engine === 'postgres' ? redactUrl(url) : resolve(url.replace(/^sqlite:(\/\/)?/i, ''));
  let db: Kysely<Database>;
  let sqlite: import('better-sqlite3').Database | undefined;
  if (engine === 'postgres') db = await openPostgres(url);
  else ({ db, raw: sqlite } = await openSqlite(url, opts));
  const guard = async <T>(doing: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw explain(err, where, doing);
    }
  };
  const store: Store = { db, engine, where, guard, close: () => db.destroy(), sqlite };
  try {
    const from = await guard('applying migrations', () => migrate(db, engine, sqlite));
    // Migrations 3 and 4 drop tables (each run's list of fingerprints; the tables keyed by fingerprint, rebuilt):
    // give the embedded file's freed pages back (once).
    if (sqlite && from > 0 && from < 4) await guard('compacting the store after migrations', async () => void sqlite!.exec('VACUUM'));
    if (from > SCHEMA_VERSION)
      throw new HistoryError(
        'newer-schema',
        `history store ${where} is at schema version ${from}, newer than this fleetgate knows (${SCHEMA_VERSION}): upgrade fleetgate, or point --history at another store`,
      );
  } catch (err) {
    await db.destroy().catch(() => {});
    throw explain(err, where, 'opening');
  }
  return store;
}
