import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import type { PathSegments, SourceLocation } from '../model/index.js';

/**
 * Maps a path inside a loaded object to file:line:column without keeping the parsed YAML document alive.
 *
 * A parsed `Document` costs ~15 KB per Kubernetes object, and lint needs every object until the last policy has
 * run, so holding the documents made memory grow with the input (921 MiB at 50,000 objects). Instead, while the
 * document is still at hand, its node tree is folded into a compact index of three int32 per value, laid out so
 * that the children of a map or list are contiguous:
 *
 *   [offset, first child entry (-1: no children), child count]
 *
 * A map's children are in the order of `Object.keys()` of the object that `toJS()` (or `JSON.parse`) built, so a
 * path is resolved by walking the object and the index side by side. An offset is where the text that set the
 * value starts: the key of a map entry, the item of a list. The rules are the ones the walk over the parsed
 * document used: a path that leaves the document points at the deepest value it reached (a missing field at its
 * parent), keys set by a merge (`<<: *base`) point into the merged map (go-yaml v2's order: the last writer wins,
 * in a list of maps the earlier map wins), and an alias points into its anchor. Values that are the same object
 * (aliases) share one block of children, so alias expansion never multiplies the index.
 */

/** Entries of one value: where its text starts, its first child, its number of children. */
const WIDTH = 3;
/** Nesting deeper than this gets no positions of its own (the walk stops at the last indexed value). */
const MAX_DEPTH = 1000;
/** Merges of merges this deep are not worth following for a position. */
const MAX_MERGE_DEPTH = 20;

export class FilePositions {
  private entries = new Int32Array(WIDTH * 256);
  private size = 0;
  private lineStarts: Int32Array = new Int32Array(0);

  constructor(readonly file: string) {}

  /** Indexes one parsed document whose `toJS()` is `value`; returns its root entry. Call `seal` after the last. */
  add(doc: Document.Parsed, value: unknown): number {
    const root = this.alloc(1);
    const offset = (doc.contents as Node | null)?.range?.[0];
    this.entries[root * WIDTH] = offset ?? -1;
    this.fill(doc, root, doc.contents, value, new Map(), 0);
    return root;
  }

  /** Trims the index and keeps the line starts of the file (the counter filled while it was parsed). */
  seal(lineCounter: LineCounter): void {
    this.entries = this.entries.slice(0, this.size * WIDTH);
    this.lineStarts = Int32Array.from(lineCounter.lineStarts);
  }

  /** file:line:column of `path` (after `prefix`, the path of the object inside its document) from the root entry. */
  locate(root: number, value: unknown, prefix: PathSegments, path: PathSegments): SourceLocation | undefined {
    const e = this.entries;
    let at = root;
    let offset = e[at * WIDTH];
    for (const seg of [...prefix, ...path]) {
      const first = e[at * WIDTH + 1];
      const count = e[at * WIDTH + 2];
      if (first < 0 || value === null || typeof value !== 'object') break;
      let i: number;
      if (Array.isArray(value)) {
        if (typeof seg !== 'number' || value.length !== count) break;
        i = seg;
        value = value[seg];
      } else {
        const keys = Object.keys(value);
        if (keys.length !== count) break; // the object changed since it was loaded: no guessing
        i = keys.indexOf(String(seg));
        value = (value as Record<string, unknown>)[keys[i]];
      }
      if (i < 0 || i >= count) break;
      at = first + i;
      offset = e[at * WIDTH];
    }
    if (offset < 0) return undefined;
    const { line, col } = this.linePos(offset);
    return { file: this.file, line, column: col };
  }

  /** The `yaml` package's LineCounter.linePos, over the kept line starts. */
  private linePos(offset: number): { line: number; col: number } {
    const starts = this.lineStarts;
    let low = 0;
    let high = starts.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (offset < starts[mid]) high = mid;
      else low = mid + 1;
    }
    if (starts[low] === offset) return { line: low + 1, col: 1 };
    if (low === 0) return { line: 0, col: offset };
    return { line: low, col: offset - starts[low - 1] + 1 };
  }

  private alloc(n: number): number {
    const start = this.size;
    this.size += n;
    if (this.size * WIDTH > this.entries.length) {
      const grown = new Int32Array(Math.max(this.entries.length * 2, this.size * WIDTH));
      grown.set(this.entries);
      this.entries = grown;
    }
    return start;
  }

  /** Gives entry `at` (its offset already set) the children of `value`, read against the YAML `node` it came from. */
  private fill(doc: Document.Parsed, at: number, node: unknown, value: unknown, seen: Map<object, number>, depth: number): void {
    this.entries[at * WIDTH + 1] = -1;
    this.entries[at * WIDTH + 2] = 0;
    if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return;
    const shared = seen.get(value);
    if (shared !== undefined) {
      this.entries[at * WIDTH + 1] = this.entries[shared * WIDTH + 1];
      this.entries[at * WIDTH + 2] = this.entries[shared * WIDTH + 2];
      return;
    }
    if (isAlias(node)) node = node.resolve(doc);
    const own = this.entries[at * WIDTH];
    let children: { node: unknown; offset: number; value: unknown; found: boolean }[];
    if (Array.isArray(value) && isSeq(node)) {
      children = value.map((v, i) => {
        const item = node.items[i] as Node | null | undefined;
        return { node: item, offset: item?.range?.[0] ?? own, value: v, found: !!item };
      });
    } else if (!Array.isArray(value) && isMap(node)) {
      const pairs = pairsByKey(doc, node, 0);
      children = Object.keys(value).map((k) => {
        const p = pairs.get(k);
        return { node: p?.value, offset: (p?.key as Node | null | undefined)?.range?.[0] ?? own, value: (value as Record<string, unknown>)[k], found: !!p };
      });
    } else return;
    const first = this.alloc(children.length);
    this.entries[at * WIDTH + 1] = first;
    this.entries[at * WIDTH + 2] = children.length;
    seen.set(value, at);
    children.forEach((c, i) => {
      this.entries[(first + i) * WIDTH] = c.offset;
      this.entries[(first + i) * WIDTH + 1] = -1;
    });
    children.forEach((c, i) => {
      // a key the YAML does not have (a complex key turned into text) stops the walk at its parent
      if (c.found) this.fill(doc, first + i, c.node, c.value, seen, depth + 1);
    });
  }
}

/**
 * The pair that gives each key of a map its value, merges applied in go-yaml v2's order: keys after `<<`
 * override it, and in a list of merged maps the earlier ones win. Keys are compared as the text `toJS()` makes
 * of them; complex and null keys are never the target of a path.
 */
function pairsByKey(doc: Document.Parsed, map: YAMLMap, depth: number): Map<string, Pair> {
  const out = new Map<string, Pair>();
  for (const p of map.items) {
    if (!isPair(p)) continue;
    const k = isScalar(p.key) ? p.key.value : p.key;
    if (typeof k === 'symbol') {
      if (depth > MAX_MERGE_DEPTH) continue;
      const value = isAlias(p.value) ? p.value.resolve(doc) : p.value;
      const sources = isSeq(value) ? value.items.map((v) => (isAlias(v) ? v.resolve(doc) : v)) : [value];
      for (const s of [...sources].reverse()) if (isMap(s)) for (const [key, pair] of pairsByKey(doc, s, depth + 1)) out.set(key, pair);
    } else if (k !== null && typeof k !== 'object') out.set(String(k), p);
  }
  return out;
}
