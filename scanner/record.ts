import type { ClusterReport } from './scan.js';

/**
 * A cluster's report serialized once, as the JSON report writes it (writers.ts writeJson: `JSON.stringify(report,
 * null, 2)` at the clusters array's indentation), with where each top-level value lies in those bytes. The spool
 * keeps these bytes (a worker thread makes them: scan-pool.ts), and the JSON writer copies them out as they are;
 * a report that the fleet rules changed is spliced (only the values they touched are serialized again, see
 * `jsonWith`). The other formats parse the bytes back into the report (`report`).
 *
 * Layout of `bytes`: a 4-byte length, a JSON header (keys and each value's start and end in the body), the body.
 */

/** Indentation of a cluster's members in the JSON report: the clusters array is at 2, its elements at 4. */
const INNER = '\n      ';
const CLOSE = '\n    }';
/** What JSON.stringify(x, null, 2) puts around a value nested in two arrays (x = [[value]]) or three. */
const DEPTH2_OPEN = '[\n  [\n    ';
const DEPTH2_CLOSE = '\n  ]\n]';
/** An element of an array member: a line `\n        ` at exactly this indentation (nested lines are indented further). */
const ELEMENT = '\n        ';

/**
 * Lets a change (jsonWith) merge items into an array member that is sorted by `compare` without reading it: the
 * result is the member's array with the items added and sorted again (a stable sort: items equal to an element
 * come after it, in their own order), found by a binary search that parses only the elements it looks at.
 */
export type InsertSorted = <T>(key: string, items: readonly T[], compare: (a: T, b: T) => number) => void;

interface SortedInsert {
  items: readonly unknown[];
  compare: (a: unknown, b: unknown) => number;
}

export class ClusterRecord {
  private constructor(
    readonly keys: readonly string[],
    /** Byte offsets in `body`: value k is body[starts[k], ends[k]). */
    private readonly starts: readonly number[],
    private readonly ends: readonly number[],
    /** The report's JSON text, indented as in the JSON report (`{` … `\n    }`). */
    readonly body: Buffer,
    /** The whole record (header and body), as the spool stores it. */
    readonly bytes: Buffer,
  ) {}

  /**
   * Serializes `report` (what JSON.stringify would drop — undefined values — is dropped). One JSON.stringify of
   * the report nested two arrays deep gives its text at the clusters array's indentation as it is (no pass to
   * indent it); a member's line `\n      "key": ` at exactly that indentation can only be a member of the report
   * (nested lines are indented further, and JSON strings hold no raw newline), which finds each value.
   */
  static of(report: ClusterReport): ClusterRecord {
    const text = JSON.stringify([[report]], null, 2);
    const body = text.slice(DEPTH2_OPEN.length, text.length - DEPTH2_CLOSE.length);
    const length = Buffer.byteLength(body);
    // Offsets in characters are offsets in bytes only for ASCII text; anything else is measured a member at a time.
    if (length !== body.length) return ClusterRecord.measured(report);
    const keys: string[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let at = 0;
    for (const k of Object.keys(report)) {
      const marker = `${INNER}${JSON.stringify(k)}: `;
      const found = body.indexOf(marker, at);
      if (found < 0) continue; // dropped (undefined)
      if (starts.length) ends.push(found - 1); // the comma before it
      keys.push(k);
      starts.push(found + marker.length);
      at = found + marker.length;
    }
    if (keys.length) ends.push(body.length - CLOSE.length);
    return ClusterRecord.assemble(keys, starts, ends, body, length, 'latin1');
  }

  /** of() for a report whose JSON is not all ASCII: each member serialized and measured on its own. */
  private static measured(report: ClusterReport): ClusterRecord {
    const keys: string[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    const parts: string[] = ['{'];
    let at = 1;
    for (const [k, v] of Object.entries(report)) {
      const text = valueText(v);
      if (text === undefined) continue;
      const lead = `${keys.length ? ',' : ''}${INNER}${JSON.stringify(k)}: `;
      keys.push(k);
      at += Buffer.byteLength(lead);
      starts.push(at);
      at += Buffer.byteLength(text);
      ends.push(at);
      parts.push(lead, text);
    }
    parts.push(keys.length ? CLOSE : '}');
    const body = parts.join('');
    return ClusterRecord.assemble(keys, starts, ends, body, Buffer.byteLength(body), 'utf8');
  }

  private static assemble(keys: string[], starts: number[], ends: number[], body: string, length: number, encoding: 'latin1' | 'utf8'): ClusterRecord {
    const header = Buffer.from(JSON.stringify({ k: keys, s: starts, e: ends }));
    // its own memory, never a slice of the shared pool: a worker transfers it whole to the main thread
    const bytes = Buffer.allocUnsafeSlow(4 + header.length + length);
    bytes.writeUInt32LE(header.length, 0);
    header.copy(bytes, 4);
    bytes.write(body, 4 + header.length, length, encoding);
    return new ClusterRecord(keys, starts, ends, bytes.subarray(4 + header.length), bytes);
  }

  /** A record read back from its bytes (no copy: the body is a view of `bytes`). */
  static decode(bytes: Buffer): ClusterRecord {
    const n = bytes.readUInt32LE(0);
    const h = JSON.parse(bytes.toString('utf8', 4, 4 + n)) as { k: string[]; s: number[]; e: number[] };
    return new ClusterRecord(h.k, h.s, h.e, bytes.subarray(4 + n), bytes);
  }

  /** The report, parsed from the body (as a JSON round trip of the report gives it). */
  report(): ClusterReport {
    return JSON.parse(this.body.toString('utf8')) as ClusterReport;
  }

  /**
   * The JSON report's bytes for this cluster after `change` (which may read, set and delete the report's members,
   * as stream.ts's adjustment by the fleet rules does): only the members it reads are parsed, only those are
   * serialized again, and the rest is copied from the body. No change: the body itself.
   */
  jsonWith(change?: (report: ClusterReport, insertSorted: InsertSorted) => void): Buffer {
    if (!change) return this.body;
    const { view, touched } = this.lazyView();
    const inserts = new Map<string, SortedInsert>();
    change(view as unknown as ClusterReport, (key, items, compare) => {
      if (items.length) inserts.set(key, { items, compare: compare as SortedInsert['compare'] });
    });
    const present = new Set(Object.keys(view));
    if (!touched.size && !inserts.size && present.size === this.keys.length) return this.body;
    const out: (string | Buffer)[] = ['{'];
    let first = true;
    const lead = (k: string) => {
      out.push(`${first ? '' : ','}${INNER}${JSON.stringify(k)}: `);
      first = false;
    };
    const value = (k: string) => {
      const v = (view as Record<string, unknown>)[k];
      const insert = inserts.get(k);
      return valueText(insert && Array.isArray(v) ? [...v, ...insert.items].sort(insert.compare) : v);
    };
    for (const [i, k] of this.keys.entries()) {
      if (!present.has(k)) continue;
      const insert = touched.has(k) ? undefined : inserts.get(k);
      const text = touched.has(k) ? value(k) : insert ? this.withInserted(i, insert) : this.body.subarray(this.starts[i], this.ends[i]);
      if (text === undefined) continue;
      lead(k);
      out.push(text);
    }
    // members the change added go last, as they would on the object
    for (const k of present) {
      if (this.keys.includes(k)) continue;
      const text = value(k);
      if (text === undefined) continue;
      lead(k);
      out.push(text);
    }
    out.push(first ? '}' : CLOSE);
    return Buffer.concat(out.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  }

  /**
   * Member `i` (a sorted array, as the JSON report writes it) with `insert`'s items merged in, as text: each item
   * goes after the last element that does not sort after it, found by parsing ~log2(n) elements; the elements'
   * own text is copied. A member that is not an array is parsed whole.
   */
  private withInserted(i: number, insert: SortedInsert): string {
    const text = this.body.toString('utf8', this.starts[i], this.ends[i]);
    if (text === '[]') return valueText([...insert.items].sort(insert.compare))!;
    if (!text.startsWith(`[${ELEMENT}`)) return valueText(JSON.parse(text))!;
    // where each element starts: after the `\n` and 8 spaces of a line at the elements' own indentation (the
    // other lines there close an element: `}` or `]`)
    const starts: number[] = [];
    for (let at = text.indexOf(ELEMENT); at >= 0; at = text.indexOf(ELEMENT, at + 1)) {
      const c = text[at + ELEMENT.length];
      if (c !== ' ' && c !== '}' && c !== ']') starts.push(at + ELEMENT.length);
    }
    const end = (j: number) => (j + 1 < starts.length ? starts[j + 1] - ELEMENT.length - 1 : text.length - CLOSE_ARRAY.length);
    const element = (j: number) => JSON.parse(text.slice(starts[j], end(j))) as unknown;
    const items = [...insert.items].sort(insert.compare);
    const parts: string[] = [];
    let copied = 0; // text before this offset is in parts
    let low = 0;
    for (const item of items) {
      // the first element that sorts after the item (items equal to elements go after them)
      let high = starts.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (insert.compare(item, element(mid)) < 0) high = mid;
        else low = mid + 1;
      }
      const itemText = elementText(item);
      if (low < starts.length) {
        const at = starts[low] - ELEMENT.length;
        parts.push(text.slice(copied, at), `${ELEMENT}${itemText},`);
        copied = at;
      } else {
        const at = end(starts.length - 1);
        parts.push(text.slice(copied, at), `,${ELEMENT}${itemText}`);
        copied = at;
      }
    }
    parts.push(text.slice(copied));
    return parts.join('');
  }

  /** An object whose members parse their value from the body when first read; `touched`: the members read or set. */
  private lazyView(): { view: Record<string, unknown>; touched: Set<string> } {
    const view: Record<string, unknown> = {};
    const touched = new Set<string>();
    for (const [i, k] of this.keys.entries()) {
      let value: unknown;
      let parsed = false;
      Object.defineProperty(view, k, {
        enumerable: true,
        configurable: true,
        get: () => {
          touched.add(k);
          if (!parsed) {
            value = JSON.parse(this.body.toString('utf8', this.starts[i], this.ends[i]));
            parsed = true;
          }
          return value;
        },
        set: (v: unknown) => {
          touched.add(k);
          value = v;
          parsed = true;
        },
      });
    }
    return { view, touched };
  }
}

/** What JSON.stringify(x, null, 2) puts around a value nested in three arrays (x = [[[value]]]), or in four. */
const DEPTH3_OPEN = '[\n  [\n    [\n      ';
const DEPTH3_CLOSE = '\n    ]\n  ]\n]';
const DEPTH4_OPEN = '[\n  [\n    [\n      [\n        ';
const DEPTH4_CLOSE = '\n      ]\n    ]\n  ]\n]';
/** How an array member's text ends (its closing bracket on the members' indentation). */
const CLOSE_ARRAY = '\n      ]';

/**
 * A member's value as JSON.stringify(report, null, 2) writes it inside the JSON report (nested three arrays deep,
 * a value is at that indentation); undefined when JSON.stringify drops it.
 */
function valueText(v: unknown): string | undefined {
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return undefined;
  const text = JSON.stringify([[[v]]], null, 2);
  return text.slice(DEPTH3_OPEN.length, text.length - DEPTH3_CLOSE.length);
}

/** An element of a member's array as the JSON report writes it (one level deeper than a member). */
function elementText(v: unknown): string {
  const text = JSON.stringify([[[[v]]]], null, 2);
  return text.slice(DEPTH4_OPEN.length, text.length - DEPTH4_CLOSE.length);
}
