import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { PathSegments, SourceLocation } from '../model/index.js';

/**
 * Maps a path inside a parsed YAML document to file:line:column. It walks the document's node tree as far as the
 * path exists and points at the deepest node found, so a finding about a missing field points at its parent.
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
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) === seg);
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
