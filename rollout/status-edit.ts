import { isMap, isScalar, parseAllDocuments, type Document, type Pair } from 'yaml';

/**
 * Writes a PolicyRollout's `status:` back into the file it came from, changing nothing but the status lines.
 *
 * Re-serialising the document with the `yaml` Document API would reformat the author's file (flow sequences such as
 * `cohorts: ["0"]` become block ones, comments move), and a promotion pull request must show exactly one change.
 * So this edits the source text at the offsets the parser reports: a flow `status: { ... }` is rewritten in flow
 * style on its own line (its trailing comment kept), a block `status:` has its lines replaced at their indentation,
 * and a document without status gets one appended after its last key.
 */

export type StatusValue = string | number | boolean;
export type Status = Record<string, StatusValue | undefined>;

export class StatusEditError extends Error {}

/** Finds the document of `kind: PolicyRollout` named `name` in a (multi-document) YAML source. */
function findRollout(docs: Document.Parsed[], name: string): Document.Parsed | undefined {
  return docs.find((d) => {
    const js = d.toJS({ maxAliasCount: 100 }) as { kind?: unknown; metadata?: { name?: unknown } } | null;
    return js?.kind === 'PolicyRollout' && js.metadata?.name === name;
  });
}

function formatScalar(v: StatusValue): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v); // a JSON string is a valid double-quoted YAML scalar
}

function entries(status: Status): [string, StatusValue][] {
  return Object.entries(status).filter((e): e is [string, StatusValue] => e[1] !== undefined);
}

function lineStart(src: string, offset: number): number {
  return src.lastIndexOf('\n', offset - 1) + 1;
}

/** Returns `src` with the named rollout's status replaced by `status` (keys with undefined values are dropped). */
export function setRolloutStatus(src: string, name: string, status: Status): string {
  const docs = parseAllDocuments(src, { keepSourceTokens: true });
  if (!Array.isArray(docs)) throw new StatusEditError('the file is empty');
  const doc = findRollout(docs, name);
  if (!doc) throw new StatusEditError(`no PolicyRollout named "${name}" in this file`);
  if (doc.errors.length) throw new StatusEditError(`the PolicyRollout document does not parse: ${doc.errors[0].message}`);
  const root = doc.contents;
  if (!isMap(root) || !root.range) throw new StatusEditError('the PolicyRollout document is not a map');
  const pairs = root.items as Pair[];
  const pair = pairs.find((p) => isScalar(p.key) && p.key.value === 'status');
  const fields = entries(status);

  if (!pair) {
    const last = pairs[pairs.length - 1];
    const end = (last?.value as { range?: [number, number, number] } | null)?.range?.[2] ?? root.range[2];
    const keyStart = (last?.key as { range?: [number, number, number] } | null)?.range?.[0] ?? root.range[0];
    const indent = ' '.repeat(keyStart - lineStart(src, keyStart));
    const text = `${indent}status:\n${fields.map(([k, v]) => `${indent}  ${k}: ${formatScalar(v)}\n`).join('')}`;
    const at = src[end - 1] === '\n' ? end : end; // range[2] ends after the last key's line break when there is one
    const sep = at > 0 && src[at - 1] !== '\n' ? '\n' : '';
    return src.slice(0, at) + sep + text + src.slice(at);
  }

  const value = pair.value as { range?: [number, number, number]; flow?: boolean } | null;
  const keyRange = (pair.key as { range: [number, number, number] }).range;
  if (!value?.range || (value && !isMap(value) && !(isScalar(value) && value.value === null))) {
    throw new StatusEditError('status must be a map');
  }
  const [vStart, vEnd] = value.range;
  if (isMap(value) && value.flow) {
    const text = `{ ${fields.map(([k, v]) => `${k}: ${formatScalar(v)}`).join(', ')} }`;
    return src.slice(0, vStart) + text + src.slice(vEnd);
  }
  // Block map (or an empty `status:`): replace from the key's line to the end of the value, at the key's indentation.
  const from = lineStart(src, keyRange[0]);
  const indent = ' '.repeat(keyRange[0] - from);
  let to = isMap(value) && value.items.length ? vEnd : keyRange[2];
  if (to > 0 && src[to - 1] !== '\n') {
    const nl = src.indexOf('\n', to);
    to = nl === -1 ? src.length : nl + 1;
  }
  const text = `${indent}status:\n${fields.map(([k, v]) => `${indent}  ${k}: ${formatScalar(v)}\n`).join('')}`;
  return src.slice(0, from) + text + src.slice(to);
}

/** A unified-style diff of the changed lines, for `--dry-run`. */
export function lineDiff(before: string, after: string, file: string): string {
  const a = before.split('\n');
  const b = after.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  if (start === endA && start === endB) return '';
  const out = [`--- ${file}`, `+++ ${file}`, `@@ -${start + 1},${endA - start} +${start + 1},${endB - start} @@`];
  for (let i = start; i < endA; i++) out.push(`-${a[i]}`);
  for (let i = start; i < endB; i++) out.push(`+${b[i]}`);
  return `${out.join('\n')}\n`;
}
