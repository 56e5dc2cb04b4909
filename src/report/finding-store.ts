import type { Finding, ResourceRef } from '../model/index.js';

/**
 * Findings kept compactly until the report is written: one row of int32 per finding (policy, message, path and
 * file as indexes into one table of distinct strings, line and column as numbers, the resource as the engine's
 * shared reference), sorted as `sortFindings` sorts, and made into `Finding` objects again one at a time as a
 * writer asks for them. 213,000 findings of 50,000 objects held as objects cost ~50 MB even with their strings
 * shared; as rows, ~10 MB.
 *
 * A finding comes back with the same keys in the same order and the same values (its JSON is byte for byte the
 * same): each row names its shape, the list of keys the finding had. A finding with a key or a value the rows
 * do not describe is kept whole.
 */

/** Columns of a row. */
const SHAPE = 0;
const POLICY = 1;
const SEVERITY = 2;
const ACTION = 3;
const MESSAGE = 4;
const PATH = 5;
const RESOURCE = 6;
const FILE = 7;
const LINE = 8;
const COLUMN = 9;
/** Index into `extras`: the `also` list, the cluster, or (shape WHOLE) the finding itself; -1 none. */
const EXTRA = 10;
const WIDTH = 11;
/** The shape of a finding kept whole. */
const WHOLE = -1;

const KEYS = new Set(['policy', 'severity', 'action', 'message', 'resource', 'path', 'source', 'error', 'also', 'cluster']);

export class FindingStore implements Iterable<Finding> {
  private rows = new Int32Array(WIDTH * 1024);
  private count = 0;
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();
  private readonly shapes: string[][] = [];
  private readonly shapeIds = new Map<string, number>();
  private readonly refs: ResourceRef[] = [];
  private readonly refIds = new Map<ResourceRef, number>();
  private readonly extras: unknown[] = [];
  /** Rows in report order, once sorted. */
  private order: Uint32Array | undefined;

  get length(): number {
    return this.count;
  }

  add(f: Finding): void {
    this.order = undefined;
    if (this.count * WIDTH >= this.rows.length) {
      const grown = new Int32Array(this.rows.length * 2);
      grown.set(this.rows);
      this.rows = grown;
    }
    const at = this.count++ * WIDTH;
    const r = this.rows;
    const shape = this.shapeOf(f);
    r[at + SHAPE] = shape;
    if (shape === WHOLE) {
      r[at + EXTRA] = this.extras.push(f) - 1;
      return;
    }
    r[at + POLICY] = this.string(f.policy);
    r[at + SEVERITY] = this.string(f.severity);
    r[at + ACTION] = this.string(f.action);
    r[at + MESSAGE] = this.string(f.message);
    r[at + PATH] = this.string(f.path);
    r[at + RESOURCE] = this.ref(f.resource);
    r[at + FILE] = f.source ? this.string(f.source.file) : -1;
    r[at + LINE] = f.source?.line ?? 0;
    r[at + COLUMN] = f.source?.column ?? 0;
    r[at + EXTRA] = f.also ? this.extras.push(f.also) - 1 : f.cluster !== undefined ? this.extras.push(f.cluster) - 1 : -1;
  }

  /** Orders the rows as `sortFindings` orders findings (by file, line, column, resource, policy, path; stable). */
  sort(): this {
    const file = (i: number) => this.field(i, FILE);
    const line = (i: number) => this.number(i, LINE);
    const column = (i: number) => this.number(i, COLUMN);
    const ref = (i: number) => this.resourceOf(i);
    const policy = (i: number) => this.field(i, POLICY);
    const path = (i: number) => this.field(i, PATH);
    const idx = Array.from({ length: this.count }, (_, i) => i).sort(
      (a, b) =>
        cmp(file(a), file(b)) || line(a) - line(b) || column(a) - column(b) || cmp(ref(a).kind, ref(b).kind) ||
        cmp(ref(a).namespace ?? '', ref(b).namespace ?? '') || cmp(ref(a).name, ref(b).name) || cmp(policy(a), policy(b)) || cmp(path(a), path(b)),
    );
    this.order = Uint32Array.from(idx);
    return this;
  }

  /** The findings, in report order once sorted (else as added), each made afresh. */
  *[Symbol.iterator](): Iterator<Finding> {
    for (let i = 0; i < this.count; i++) yield this.at(this.order ? this.order[i] : i);
  }

  /** Finding number `i` (as added). */
  private at(i: number): Finding {
    const r = this.rows;
    const at = i * WIDTH;
    const shape = r[at + SHAPE];
    if (shape === WHOLE) return this.extras[r[at + EXTRA]] as Finding;
    const s = this.strings;
    const f: Record<string, unknown> = {};
    for (const k of this.shapes[shape]) {
      if (k === 'policy') f.policy = s[r[at + POLICY]];
      else if (k === 'severity') f.severity = s[r[at + SEVERITY]];
      else if (k === 'action') f.action = s[r[at + ACTION]];
      else if (k === 'message') f.message = s[r[at + MESSAGE]];
      else if (k === 'path') f.path = s[r[at + PATH]];
      else if (k === 'resource') f.resource = this.refs[r[at + RESOURCE]];
      else if (k === 'source') f.source = { file: s[r[at + FILE]], line: r[at + LINE], column: r[at + COLUMN] };
      else if (k === 'error') f.error = true;
      else if (k === 'also') f.also = this.extras[r[at + EXTRA]];
      else if (k === 'cluster') f.cluster = this.extras[r[at + EXTRA]];
    }
    return f as unknown as Finding;
  }

  /** A string column of row `i` ('' for no source file), read from the finding itself when it is kept whole. */
  private field(i: number, column: typeof FILE | typeof POLICY | typeof PATH): string {
    const at = i * WIDTH;
    if (this.rows[at + SHAPE] === WHOLE) {
      const f = this.extras[this.rows[at + EXTRA]] as Finding;
      return column === FILE ? (f.source?.file ?? '') : column === POLICY ? f.policy : f.path;
    }
    const id = this.rows[at + column];
    return id < 0 ? '' : this.strings[id];
  }

  private number(i: number, column: typeof LINE | typeof COLUMN): number {
    const at = i * WIDTH;
    if (this.rows[at + SHAPE] !== WHOLE) return this.rows[at + column];
    const f = this.extras[this.rows[at + EXTRA]] as Finding;
    return (column === LINE ? f.source?.line : f.source?.column) ?? 0;
  }

  private resourceOf(i: number): ResourceRef {
    const at = i * WIDTH;
    return this.rows[at + SHAPE] === WHOLE ? (this.extras[this.rows[at + EXTRA]] as Finding).resource : this.refs[this.rows[at + RESOURCE]];
  }

  /** The id of the finding's list of keys, or WHOLE when a row cannot hold it exactly. */
  private shapeOf(f: Finding): number {
    const keys = Object.keys(f);
    for (const k of keys) if (!KEYS.has(k) || (f as unknown as Record<string, unknown>)[k] === undefined) return WHOLE;
    const { policy, severity, action, message, path, resource, source, error, also, cluster } = f;
    if (typeof policy !== 'string' || typeof severity !== 'string' || typeof action !== 'string' || typeof message !== 'string' || typeof path !== 'string') return WHOLE;
    if (typeof resource !== 'object' || resource === null) return WHOLE;
    if (source !== undefined && !isPlainSource(source)) return WHOLE;
    if (error !== undefined && error !== true) return WHOLE;
    if (also !== undefined && cluster !== undefined) return WHOLE; // one extra per row
    if (also !== undefined && !Array.isArray(also)) return WHOLE;
    const name = keys.join(',');
    let id = this.shapeIds.get(name);
    if (id === undefined) {
      id = this.shapes.push(keys) - 1;
      this.shapeIds.set(name, id);
    }
    return id;
  }

  private string(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.push(s) - 1;
      this.stringIds.set(s, id);
    }
    return id;
  }

  /** The engine makes one reference per judged object: findings of an object share it, and so do their rows. */
  private ref(ref: ResourceRef): number {
    let id = this.refIds.get(ref);
    if (id === undefined) {
      id = this.refs.push(ref) - 1;
      this.refIds.set(ref, id);
    }
    return id;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `{ file, line, column }` in that order, line and column int32: what a row holds. */
function isPlainSource(s: unknown): s is { file: string; line: number; column: number } {
  if (typeof s !== 'object' || s === null) return false;
  const keys = Object.keys(s);
  const { file, line, column } = s as Record<string, unknown>;
  return (
    keys.length === 3 && keys[0] === 'file' && keys[1] === 'line' && keys[2] === 'column' && typeof file === 'string' &&
    typeof line === 'number' && (line | 0) === line && typeof column === 'number' && (column | 0) === column && !Object.is(line, -0) && !Object.is(column, -0)
  );
}
