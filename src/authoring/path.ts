import type { PathSegments } from '../model/index.js';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Renders path segments as a JSONPath: `$.spec.containers[0].securityContext`, `$.metadata.labels['app.kubernetes.io/name']`. */
export function toJsonPath(segments: PathSegments): string {
  let out = '$';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += `.${s}`;
    else out += `['${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
  }
  return out;
}

/**
 * Splits a dotted relative path (`resources.limits.cpu`, `ports[0].hostPort`) into segments.
 * Used by the DSL's `get`/`path` helpers; policy authors write these, so the syntax stays small.
 */
export function splitDotted(path: string): readonly (string | number)[] {
  // Policies pass the same literal paths for every object: parse each once.
  let cached = splitCache.get(path);
  if (!cached) {
    if (splitCache.size > 10_000) splitCache.clear();
    splitCache.set(path, (cached = Object.freeze(parseDotted(path))));
  }
  return cached;
}

const splitCache = new Map<string, readonly (string | number)[]>();

function parseDotted(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    if (part === '') continue;
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** Reads a value at path segments; undefined when any step is missing. Never walks into the prototype. */
export function getAt(root: unknown, segments: PathSegments): unknown {
  let cur: unknown = root;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, s)) return undefined;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return cur;
}
