import { groupOf, identityOf, isPlainObject, refOf, tryParseQuantity, DEFAULT_SYSTEM_NAMESPACES, type KubeObject, type ResourceRef } from '../src/index.js';
import { REDACTED as LIVE_REDACTED } from './live/redact.js';

/**
 * Drift of one desired object against the live one. Only the fields the repo sets are compared (server defaults,
 * status, managedFields, extra labels and annotations on the live object are not drift). Lists whose items all have
 * a `name` are matched by name; other lists are compared item by item and must have the same length.
 */

export type DriftState = 'missing' | 'modified' | 'unmanaged';

export interface Diff {
  /** JSONPath into the object; named list items are addressed by name: `$.spec.containers[?(@.name=='app')].image`. */
  path: string;
  desired: unknown;
  live: unknown;
}

export interface DriftEntry {
  resource: ResourceRef;
  state: DriftState;
  diffs: Diff[];
}

export const REDACTED = '<redacted>';

/** Fields the server owns: never compared even if a repo sets them. */
const SERVER_METADATA = new Set(['resourceVersion', 'uid', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp', 'ownerReferences']);

const QUANTITY_KEYS = /^(cpu|memory|pods|storage|ephemeral-storage|(requests|limits)\.(cpu|memory|storage|ephemeral-storage)|hugepages-.*)$/;

function key(seg: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg).replace(/^"|"$/g, "'")}]`;
}

function scalarEqual(desired: unknown, live: unknown, lastKey: string): boolean {
  if (desired === live) return true;
  const dt = typeof desired;
  const lt = typeof live;
  if ((dt === 'string' || dt === 'number' || dt === 'boolean') && (lt === 'string' || lt === 'number' || lt === 'boolean')) {
    if (String(desired) === String(live)) return true; // `replicas: "3"` vs 3, quantities written as numbers
    if (QUANTITY_KEYS.test(lastKey)) {
      const a = tryParseQuantity(desired);
      const b = tryParseQuantity(live);
      if (a !== undefined && b !== undefined && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a))) return true; // 1000m == 1, 1Gi == 1073741824
    }
  }
  return false;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

function named(list: unknown[]): boolean {
  return list.length > 0 && list.every((x) => isPlainObject(x) && typeof x.name === 'string');
}

function compare(desired: unknown, live: unknown, path: string, lastKey: string, out: Diff[]): void {
  if (desired === undefined) return;
  if (isPlainObject(desired)) {
    if (live === undefined || live === null) live = {}; // absent map: each field the repo sets is reported on its own
    if (!isPlainObject(live)) {
      out.push({ path, desired, live: live ?? null });
      return;
    }
    for (const [k, v] of Object.entries(desired)) compare(v, live[k], path + key(k), k, out);
    return;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) {
      if (desired.length === 0 && live === undefined) return; // `[]` and absent are the same to the API server
      out.push({ path, desired, live: live ?? null });
      return;
    }
    if (named(desired) && live.every((x) => isPlainObject(x))) {
      const byName = new Map<string, unknown>();
      for (const item of live) if (typeof (item as Record<string, unknown>).name === 'string') byName.set((item as Record<string, string>).name, item);
      for (const item of desired as Record<string, unknown>[]) {
        const p = `${path}[?(@.name=='${String(item.name).replace(/'/g, "\\'")}')]`;
        const other = byName.get(item.name as string);
        if (other === undefined) out.push({ path: p, desired: item, live: null });
        else compare(item, other, p, lastKey, out);
      }
      return;
    }
    if (desired.length !== live.length) {
      out.push({ path, desired, live });
      return;
    }
    desired.forEach((item, i) => compare(item, live[i], `${path}[${i}]`, lastKey, out));
    return;
  }
  if (desired === null) {
    if (live !== undefined && live !== null) out.push({ path, desired: null, live });
    return;
  }
  if (!scalarEqual(desired, live, lastKey)) out.push({ path, desired, live: live === undefined ? null : live });
}

function isSecret(obj: KubeObject): boolean {
  return obj.kind === 'Secret' && groupOf(obj.apiVersion) === '';
}

/** Differences between a desired object and its live counterpart (empty: in sync). Secret values are never returned. */
export function diffObject(desired: KubeObject, live: KubeObject): Diff[] {
  const out: Diff[] = [];
  for (const [k, v] of Object.entries(desired)) {
    if (k === 'status' || k === 'apiVersion') continue; // status is the server's; the version is not identity (served in any version)
    if (k === 'metadata' && isPlainObject(v)) {
      const liveMeta = isPlainObject(live.metadata) ? live.metadata : {};
      for (const [mk, mv] of Object.entries(v)) {
        if (SERVER_METADATA.has(mk)) continue;
        compare(mv, liveMeta[mk], `$.metadata${key(mk)}`, mk, out);
      }
      continue;
    }
    if (isSecret(desired) && k === 'stringData' && isPlainObject(v)) {
      // The API server folds stringData into data (base64): compare with that.
      const liveData = isPlainObject(live.data) ? live.data : {};
      for (const [sk, sv] of Object.entries(v)) {
        const enc = Buffer.from(String(sv), 'utf8').toString('base64');
        if (liveData[sk] !== enc) out.push({ path: `$.data${key(sk)}`, desired: sv, live: liveData[sk] ?? null });
      }
      continue;
    }
    compare(v, live[k], `$${key(k)}`, k, out);
  }
  if (!isSecret(desired)) return out;
  // Values read from a cluster are redacted by the reader (snapshot and live alike): a redacted live value cannot
  // be compared, so only a key that is missing (or extra) is drift there.
  const comparable = out.filter((d) => d.live !== LIVE_REDACTED);
  for (const d of comparable) redactSecretDiff(d);
  return comparable;
}

function redactSecretDiff(d: Diff): void {
  if (!/^\$\.(data|stringData)\b/.test(d.path) && !d.path.includes('last-applied-configuration')) return;
  const r = (v: unknown): unknown => (v === null || v === undefined ? null : isPlainObject(v) ? Object.fromEntries(Object.keys(v).map((k) => [k, REDACTED])) : REDACTED);
  d.desired = r(d.desired);
  d.live = r(d.live);
}

export interface DriftResult {
  entries: DriftEntry[];
  desired: number;
  inSync: number;
  unmanaged: number;
}

function ownedMatcher(owned: readonly string[]): (obj: KubeObject) => boolean {
  const set = owned.map((k) => {
    const slash = k.lastIndexOf('/');
    return slash < 0 ? { kind: k } : { group: k.slice(0, slash), kind: k.slice(slash + 1) };
  });
  return (obj) => set.some((k) => k.kind === obj.kind && (k.group === undefined || k.group === groupOf(obj.apiVersion)));
}

/**
 * Drift of a cluster: every desired object in-sync / missing / modified, and live objects of owned kinds that the
 * repo does not declare as `unmanaged` (leaving out system namespaces and objects another object owns).
 */
export function computeDrift(
  desired: ReadonlyMap<string, KubeObject>,
  live: readonly KubeObject[],
  owned: readonly string[] = [],
  systemNamespaces: readonly string[] = DEFAULT_SYSTEM_NAMESPACES,
  skip: (obj: KubeObject) => boolean = () => false,
): DriftResult {
  const liveById = new Map<string, KubeObject>();
  for (const o of live) liveById.set(identityOf(o), o);
  const entries: DriftEntry[] = [];
  let inSync = 0;
  let count = 0;
  for (const [id, want] of desired) {
    if (skip(want)) continue;
    count++;
    const have = liveById.get(id);
    if (!have) {
      entries.push({ resource: refOf(want), state: 'missing', diffs: [] });
      continue;
    }
    const diffs = diffObject(want, have);
    if (diffs.length) entries.push({ resource: refOf(want), state: 'modified', diffs });
    else inSync++;
  }
  let unmanaged = 0;
  if (owned.length) {
    const isOwned = ownedMatcher(owned);
    const sys = new Set(systemNamespaces);
    for (const o of live) {
      if (!isOwned(o)) continue;
      const ns = o.kind === 'Namespace' ? o.metadata?.name : o.metadata?.namespace;
      if (typeof ns === 'string' && sys.has(ns)) continue;
      if (Array.isArray(o.metadata?.ownerReferences) && o.metadata.ownerReferences.length) continue;
      if (desired.has(identityOf(o))) continue;
      entries.push({ resource: refOf(o), state: 'unmanaged', diffs: [] });
      unmanaged++;
    }
  }
  return { entries, desired: count, inSync, unmanaged };
}
