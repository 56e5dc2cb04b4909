import { JSONPath } from 'jsonpath-plus';
import type { PathSegments } from '../model/index.js';

/** jsonpath-plus with script evaluation off; each match's path as segments (array indexes as numbers). */
export function query(obj: unknown, jsonPath: string): { value: unknown; path: PathSegments }[] {
  const results = JSONPath({ path: jsonPath, json: obj as object, resultType: 'all', eval: false, wrap: true }) as {
    value: unknown;
    path: string;
  }[];
  return results.map((res) => {
    const raw = JSONPath.toPathArray(res.path).slice(1);
    const segments: (string | number)[] = [];
    let cur: unknown = obj;
    for (const s of raw) {
      const seg = Array.isArray(cur) ? Number(s) : s;
      segments.push(seg);
      cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[s] : undefined;
    }
    return { value: res.value, path: segments };
  });
}
