import { isAlias, isMap, isSeq, Scalar, type DocumentOptions, type ParseOptions, type SchemaOptions, type ScalarTag, type Tags } from 'yaml';

/**
 * Manifests are read the way Kubernetes reads them: kubectl and the API server decode YAML with sigs.k8s.io/yaml,
 * which is go-yaml v2 (YAML 1.1 scalars) followed by a conversion to JSON. The `yaml` package's own `yaml-1.1`
 * schema differs from go-yaml v2 in several places (base-60 numbers, timestamps as Dates, `0o`/`0X` prefixes,
 * merge order), so the scalar rules here are go-yaml v2's `resolve()` written out, on top of the core schema's
 * maps, sequences, strings and nulls. The rules are listed in the README ("How manifests are read").
 */

const TAG = 'tag:yaml.org,2002:';

/** go-yaml v2's resolveMap: the only spellings of booleans (and the special floats). */
const TRUE = /^(?:y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const FALSE = /^(?:n|N|no|No|NO|false|False|FALSE|off|Off|OFF)$/;

const boolTag = (value: boolean, test: RegExp): ScalarTag => ({
  identify: (v) => v === value,
  default: true,
  tag: `${TAG}bool`,
  test,
  resolve: () => value,
  stringify: () => String(value),
});

/** go-yaml's float syntax, checked on the text with underscores removed. */
const YAML_STYLE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const DIGITS: Record<number, RegExp> = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ };
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Go's strconv.ParseInt(s, 0, 64), then ParseUint(s, 0, 64): optional sign, `0x`/`0o`/`0b` (either case) or a
 * leading `0` for octal, within 64 bits. Undefined when Go would fail.
 */
function parseGoInt(s: string): number | undefined {
  let i = 0;
  const signed = s[0] === '-' || s[0] === '+';
  if (signed) i = 1;
  let base = 10;
  if (s[i] === '0' && s.length > i + 1) {
    const p = s[i + 1];
    if (p === 'x' || p === 'X') (base = 16), (i += 2);
    else if (p === 'o' || p === 'O') (base = 8), (i += 2);
    else if (p === 'b' || p === 'B') (base = 2), (i += 2);
    else (base = 8), (i += 1);
  }
  const digits = s.slice(i);
  if (!digits || !DIGITS[base].test(digits)) return undefined;
  const n = parseInt(digits, base);
  if (n >= 2 ** 53) {
    // only near the 64-bit limits is the exact value needed to decide
    const big = BigInt((base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '') + digits);
    const limit = s[0] === '-' ? INT64_MAX + 1n : signed ? INT64_MAX : UINT64_MAX;
    if (big > limit) return undefined;
  }
  return s[0] === '-' ? -n : n;
}

/** go-yaml v2 resolve() for a plain scalar starting with a sign or a digit: an int, a float, or the text itself. */
export function resolveGoNumber(text: string): number | string {
  const plain = text.replaceAll('_', '');
  const int = parseGoInt(plain);
  if (int !== undefined) return int;
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = Number(plain);
    if (Number.isFinite(f)) return f; // strconv.ParseFloat fails on overflow: the value stays a string
  }
  return text;
}

/**
 * Numbers JSON cannot carry (NaN, ±Infinity, -0) resolved so far, counted so that the loader knows when a parsed
 * file may be re-built through JSON (manifests.ts `compact`): such a file keeps the values `toJS()` made.
 */
let jsonlessNumbers = 0;
export const jsonlessNumberCount = (): number => jsonlessNumbers;
function noted<T>(v: T): T {
  if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) jsonlessNumbers++;
  return v;
}

/** Plain scalars go-yaml hands to its number parser (first character a sign or a digit); the rest is decided there. */
const numberTag: ScalarTag = {
  identify: (v) => typeof v === 'number',
  default: true,
  tag: `${TAG}int`,
  test: /^[-+0-9][-+0-9A-Za-z_.]*$/,
  resolve: (s) => noted(resolveGoNumber(s)),
};

/** A plain scalar starting with `.`: the special floats, or strconv.ParseFloat on the text as written. */
const dotFloatTag: ScalarTag = {
  identify: (v) => typeof v === 'number',
  default: true,
  tag: `${TAG}float`,
  test: /^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|\.[0-9]+(?:[eE][-+]?[0-9]+)?)$/,
  resolve: (s) => noted(/nan$/i.test(s) ? NaN : /inf$/i.test(s) ? (s[0] === '-' ? -Infinity : Infinity) : Number(s)),
};

/** `!!binary`: go-yaml decodes the base64 to a string of its bytes (JSON then carries it as text). */
const binaryTag: ScalarTag = {
  identify: () => false,
  default: false,
  tag: `${TAG}binary`,
  resolve: (s) => Buffer.from(s.replace(/\s+/g, ''), 'base64').toString('utf8'),
};

/** Merges done per document at most: merges of merges of the same anchor multiply (a "billion laughs" by `<<`). */
const MAX_MERGES = 10_000;
const mergeCount = new WeakMap<object, number>();

type JsCtx = Parameters<NonNullable<Scalar['addToJSMap']>>[0];

/**
 * `<<` as go-yaml v2 applies it (decode.go `merge`): the merged map's keys are written into the map being built
 * at the position of `<<`, so they override keys written before it and are overridden by keys after it; for a
 * list, the maps are applied last to first, so the earlier ones win.
 */
function addMerge(ctx: JsCtx, map: unknown, value: unknown): void {
  const count = (mergeCount.get(ctx as object) ?? 0) + 1;
  mergeCount.set(ctx as object, count);
  if (count > MAX_MERGES) throw new Error(`more than ${MAX_MERGES} merge keys (<<) applied in one document: refused as a resource-exhaustion attack`);
  const resolve = (v: unknown) => (ctx && isAlias(v) ? v.resolve(ctx.doc) : v);
  const source = resolve(value);
  const sources = isSeq(source) ? [...source.items].reverse().map(resolve) : [source];
  for (const s of sources) {
    if (!isMap(s)) throw new Error('merge requires a map or a sequence of maps as the value of <<');
    const entries = s.toJSON(null, ctx, Map) as Map<unknown, unknown>;
    for (const [k, v] of entries) {
      const key = k === null ? '' : typeof k === 'object' ? JSON.stringify(k) : String(k);
      if (map instanceof Map) map.set(key, v);
      // defineProperty: a key named __proto__ is data, never the object's prototype
      else Object.defineProperty(map, key, { value: v, writable: true, enumerable: true, configurable: true });
    }
  }
}

const mergeTag: ScalarTag = {
  identify: (v) => typeof v === 'symbol' && v.description === '<<',
  default: 'key',
  tag: `${TAG}merge`,
  test: /^<<$/,
  resolve: () => Object.assign(new Scalar(Symbol('<<')), { addToJSMap: addMerge }),
  stringify: () => '<<',
};

/** The core schema's collections, strings and nulls (`~`, null, Null, NULL, empty: as go-yaml), with go-yaml's scalars. */
function kubernetesTags(core: Tags): Tags {
  const keep = new Set([`${TAG}map`, `${TAG}seq`, `${TAG}str`, `${TAG}null`]);
  return [...core.filter((t) => typeof t === 'object' && keep.has(t.tag)), boolTag(true, TRUE), boolTag(false, FALSE), dotFloatTag, numberTag, binaryTag, mergeTag];
}

/** Options for `parseAllDocuments` / `parseDocument` that give Kubernetes' reading of a manifest. */
export const KUBERNETES_YAML: ParseOptions & DocumentOptions & SchemaOptions = {
  schema: 'core',
  customTags: kubernetesTags,
  // our merge tag replaces the package's (whose order is the YAML spec's, not go-yaml v2's)
  merge: false,
  // `!!set`, `!!omap`, `!!timestamp`, custom tags: go-yaml keeps the plain map, list or string, so do we (the
  // package would build a Set, a Map or a Date from its known tags)
  logLevel: 'error',
  resolveKnownTags: false,
};
