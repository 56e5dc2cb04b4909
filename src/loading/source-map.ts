import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import type { PathSegments, SourceLocation } from '../model/index.js';

/**
 * Maps a path inside a parsed YAML document to file:line:column. It walks the document's node tree as far as the
 * path exists and points at the deepest node found, so a finding about a missing field points at its parent.
 * Keys that come from a merge key (`<<: *base`) point into the merged map, the text that set the value.
 * Only called when a finding needs a location, so the cost is paid per finding, not per object.
 */
export function locateInDocument(
  doc: Document.Parsed,
  lineCounter: LineCounter,
  file: string,
  prefix: PathSegments,
  path: PathSegments,
): SourceLocation | undefined {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0];
  for (const seg of [...prefix, ...path]) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = findPair(doc, node, seg, 0);
      if (!pair) break;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  if (offset === undefined) return undefined;
  const pos = lineCounter.linePos(offset);
  return { file, line: pos.line, column: pos.col };
}

/** The pair that gives `key` its value, merges applied in go-yaml v2's order (the last writer wins). */
function findPair(doc: Document.Parsed, map: YAMLMap, key: string | number, depth: number): Pair | undefined {
  let found: Pair | undefined;
  for (const p of map.items) {
    if (!isPair(p)) continue;
    const k = isScalar(p.key) ? p.key.value : p.key;
    if (typeof k === 'symbol') {
      if (depth > 20) continue; // merges of merges this deep are not worth following for a position
      const value = isAlias(p.value) ? p.value.resolve(doc) : p.value;
      const sources = isSeq(value) ? value.items.map((v) => (isAlias(v) ? v.resolve(doc) : v)) : [value];
      // in a list the earlier maps win
      for (const s of sources) {
        const hit = isMap(s) ? findPair(doc, s, key, depth + 1) : undefined;
        if (hit) {
          found = hit;
          break;
        }
      }
    } else if (k === key || (typeof key === 'string' && typeof k !== 'object' && String(k) === key)) found = p;
  }
  return found;
}
