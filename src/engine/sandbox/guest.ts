import { joinParams, type ClusterInfo, type ClusterScopeContext, type ObjectContext, type Params, type Policy } from '../../authoring/index.js';
import { Inventory, type PathSegments, type Resource } from '../../model/index.js';
import type { PolicyMeta } from './protocol.js';
import { siteIn, type Site } from './sites.js';

/**
 * How the one shared engine in the isolate runs a user's policy (src/engine/sandbox/dispatcher.ts). Every file's
 * policies are judged in one pass by one copy of the evaluation code, so nothing that code hands a policy may be
 * something a policy could change for another: each call gets its own frozen context (its own `report`, dead once
 * the call returns), the pod view and namespace it shares with the other policies on that object are frozen, a
 * cluster-scope policy gets its own Inventory, and what a policy passes back (messages, paths, actions) is turned
 * into plain strings and numbers while it is still that policy's turn, so none of its code runs later on the
 * engine's time. A policy's definition is copied when its file loads: changing the exported object afterwards
 * changes nothing.
 */

function isPolicy(v: unknown): v is Policy {
  return !!v && typeof v === 'object' && typeof (v as Policy).id === 'string' && typeof (v as Policy).validate === 'function';
}

/** The policies a file's module exports (default and named, arrays too), each once. Runs the file's getters: load time. */
export function policiesOf(mod: unknown): Policy[] {
  const out: Policy[] = [];
  if (!mod || typeof mod !== 'object') return out;
  for (const value of Object.values(mod)) {
    for (const v of Array.isArray(value) ? value : [value]) if (isPolicy(v) && !out.includes(v)) out.push(v);
  }
  return out;
}

/** Freezes a value and everything reachable through its own properties (stops at what is frozen already). */
export function deepFreeze<T>(v: T): T {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null || Object.isFrozen(v)) return v;
  Object.freeze(v);
  for (const k of Reflect.ownKeys(v as object)) {
    const d = Object.getOwnPropertyDescriptor(v, k);
    if (d && 'value' in d) deepFreeze(d.value);
  }
  return v;
}

/** A user's policy as loaded: its definition as data (what the main thread checks) and its code. */
export interface LoadedPolicy {
  file: number;
  index: number;
  meta: PolicyMeta;
  /** Definition fields the engine reads that the main thread does not list. */
  extra: { allowExistingViolations?: boolean; sameFindingAs?: string[]; params: Params; paramSchemas?: Policy['paramSchemas'] };
  original: Policy;
  validate: Policy['validate'];
  actionFor?: Policy['actionFor'];
}

/** Copies a policy's definition at load (runs the file's getters and toJSON: still its load budget). */
export function loadPolicy(p: Policy, file: number, index: number): LoadedPolicy {
  const meta = JSON.parse(
    JSON.stringify({
      id: p.id,
      title: p.title,
      description: p.description,
      area: p.area,
      severity: p.severity,
      action: p.action,
      scope: p.scope ?? 'object',
      match: p.match,
      exclude: p.exclude,
      params: joinParams(p.params ?? {}, p.paramSchemas),
      examples: p.examples,
    }),
  ) as PolicyMeta;
  // meta.params are the declarations (schemas with their defaults: the main thread checks them again); the policy
  // the engine binds in here takes the defaults and the schemas apart, as definePolicy made them.
  const extra = JSON.parse(
    JSON.stringify({ allowExistingViolations: p.allowExistingViolations, sameFindingAs: p.sameFindingAs, params: p.params ?? {}, paramSchemas: p.paramSchemas }),
  );
  const actionFor = typeof p.actionFor === 'function' ? p.actionFor : undefined;
  return deepFreeze({ file, index, meta, extra, original: p, validate: p.validate, actionFor }) as LoadedPolicy;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : String(v));

function cleanPath(path: unknown): string | PathSegments {
  if (path === undefined || path === null) return [];
  if (typeof path === 'string') return path;
  if (typeof path === 'object' && typeof (path as { length?: unknown }).length === 'number')
    return Array.from(path as ArrayLike<unknown>, (s) => (typeof s === 'number' ? s : text(s)));
  return text(path);
}

/** What is left of a thrown value: its message and where in the file it was thrown (the stack is read now). */
function failure(err: unknown, script: string, onError: (site: Site | undefined) => void): Error {
  let why = 'the policy threw';
  let stack = '';
  try {
    why = err instanceof Error ? text(err.message) : text(err);
  } catch {
    // a value whose text cannot be read: the generic reason stands
  }
  try {
    stack = err instanceof Error ? text(err.stack) : '';
  } catch {
    stack = '';
  }
  onError(siteIn(stack, script));
  return new Error(why.length > 1000 ? `${why.slice(0, 999)}…` : why);
}

/**
 * Freezes objects the engine made (the pod view, its container views, the namespace info): own enumerable data
 * properties only, read directly, stopping at what is frozen already (the job's objects are). The engine's own
 * classes define no own accessors, so this freezes as much as deepFreeze at a fraction of its cost (deepFreeze
 * reads a descriptor per property; this runs on every object a user policy judges).
 */
function freezeEngineMade(v: unknown): void {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return;
  Object.freeze(v);
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) freezeEngineMade(v[i]);
  else for (const k of Object.keys(v)) freezeEngineMade((v as Record<string, unknown>)[k]);
}

/**
 * Freezes what the engine shares between the policies judging one object (the pod view's caches filled first), and
 * the policy's own parameters. The object's parts are frozen for its first policy: `s.get` (one per object, made by
 * the engine) is frozen last, so when it is frozen the rest is already, and the next policies on that object skip it.
 */
function hardenShared(s: ObjectContext<Params>): void {
  deepFreeze(s.params);
  if (Object.isFrozen(s.get)) return;
  const pod = s.pod;
  if (pod && !Object.isFrozen(pod)) {
    pod.containers();
    pod.volumes();
    void pod.os;
    freezeEngineMade(pod);
  }
  freezeEngineMade(s.namespace);
  Object.freeze(s.query);
  Object.freeze(s.isSystemNamespace);
  Object.freeze(s.get);
}

/** Frozen copies of the engine's inventories' resource lists, one per evaluation, for the per-call Inventory. */
const resourceLists = new WeakMap<object, readonly Resource[]>();

/**
 * The policy object the shared engine binds: the loaded definition, with validate/actionFor calling the user's
 * code on a context of its own. `script` names the file's bundle in stack traces; `onError` records where a
 * throw happened (the dispatcher maps it back to the policy's source file and line).
 */
export function shim(p: LoadedPolicy, cluster: ClusterInfo, script: string, onError: (site: Site | undefined) => void): Policy {
  const { meta, original, validate, actionFor } = p;
  let current: object | undefined; // the context of the call in progress (actionFor is asked during it)
  const run = (ctx: object) => {
    current = ctx;
    try {
      (validate as (this: Policy, c: object) => void).call(original, ctx);
    } catch (err) {
      throw failure(err, script, onError);
    } finally {
      current = undefined;
    }
  };
  return Object.freeze({
    ...meta,
    ...p.extra,
    validate: (meta.scope === 'cluster' ? clusterScope(run, cluster) : objectScope(run, cluster)) as Policy['validate'],
    ...(actionFor
      ? {
          actionFor: (() => {
            if (!current) return null;
            try {
              const action: unknown = (actionFor as (this: Policy, c: object) => unknown).call(original, current);
              return action === null || action === undefined ? action : text(action); // never an object the engine would serialise later
            } catch (err) {
              throw failure(err, script, onError);
            }
          }) as Policy['actionFor'],
        }
      : {}),
  }) as Policy;
}

/** An object-scope policy's validate for the engine: the shared parts frozen, a frozen context and `report` of its own per call. */
function objectScope(run: (ctx: object) => void, cluster: ClusterInfo) {
  return (s: ObjectContext<Params>) => {
    hardenShared(s);
    let live = true;
    const report = (message: unknown, path?: unknown, opts?: { action?: unknown }) => {
      if (!live) throw new Error('report() was called after the policy returned');
      const action = opts === undefined || opts === null ? undefined : opts.action;
      s.report(text(message), cleanPath(path), action === undefined ? undefined : { action: text(action) as never });
    };
    const ctx = Object.freeze({
      object: s.object,
      pod: s.pod,
      namespace: s.namespace,
      operation: s.operation,
      oldObject: s.oldObject,
      username: s.username,
      cluster,
      params: s.params,
      isSystemNamespace: s.isSystemNamespace,
      get: s.get,
      query: s.query,
      report: Object.freeze(report),
    });
    try {
      run(ctx);
    } finally {
      live = false;
    }
  };
}

/** A cluster-scope policy's validate for the engine: an Inventory of its own over the frozen resource list. */
function clusterScope(run: (ctx: object) => void, cluster: ClusterInfo) {
  return (s: ClusterScopeContext<Params>) => {
    deepFreeze(s.params);
    Object.freeze(s.isSystemNamespace);
    let list = resourceLists.get(s.inventory);
    if (!list) resourceLists.set(s.inventory, (list = Object.freeze(s.inventory.resources.slice())));
    const inventory = new Inventory(list);
    let live = true;
    const report = (object: unknown, message: unknown, path?: unknown) => {
      if (!live) throw new Error('report() was called after the policy returned');
      const known = object && typeof object === 'object' ? inventory.resourceFor(object as never) : undefined;
      s.report(known ? known.object : JSON.parse(JSON.stringify(object ?? {})), text(message), cleanPath(path));
    };
    const ctx = Object.freeze({ inventory, cluster, params: s.params, isSystemNamespace: s.isSystemNamespace, report: Object.freeze(report) });
    try {
      run(ctx);
    } finally {
      live = false;
    }
  };
}
