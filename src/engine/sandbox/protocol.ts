import type { ClusterContext } from '../context.js';
import type { Example, ExcludeSpec, MatchSpec, Params } from '../../authoring/index.js';
import type { Action, Finding, KubeObject, Operation, PathSegments, Scope, Severity } from '../../model/index.js';

/**
 * What crosses the isolate boundary. Everything here is JSON: the main thread never receives a function, a getter
 * or a prototype from policy code, and the isolate never receives a reference to anything on the main thread.
 */

/** One job for every user policy: the objects of one lint run, one scanned cluster, or one admission review. */
export interface GuestJob {
  /**
   * Names the job's cluster context: the host numbers each context object it is given, and the isolate keeps the
   * context's parsed copy (and the engines bound to it) under that number, so a review carries a number, not the
   * context's JSON (the whole parameter set on a configured cluster).
   */
  context: number;
  /**
   * The context's JSON, sent with the first job that names it, and again after the isolate answered UNKNOWN_CONTEXT
   * for that number (it keeps at most MAX_CONTEXTS; a rebuilt isolate holds none).
   */
  clusterJson?: string;
  objects: KubeObject[];
  operation?: Operation;
  oldObject?: KubeObject;
  /** The requesting user at admission (`ctx.username`). */
  username?: string;
  scopes?: Scope[];
  /** Labels of the namespaces the objects live in, when they come from outside the objects (admission's cache). */
  namespaceLabels?: Record<string, Record<string, string>>;
  /** "file:index" keys of policies that do not run: not adopted by the main thread, or stopped earlier in this job. */
  disabled: string[];
  /** Run only this policy (`fleetgate test`). */
  only?: string;
  countChecks?: boolean;
  now: number;
}

/** A job as the host is given it: the cluster context itself; the isolate's own fields are the host's to fill. */
export type SandboxJob = Omit<GuestJob, 'disabled' | 'context' | 'clusterJson'> & { cluster: ClusterContext };

/** The isolate's answer for a job naming a context number it does not hold: the host sends that job again with its JSON. */
export const UNKNOWN_CONTEXT = '?';

/** Most cluster contexts the isolate keeps (a fleet scan binds one per cluster): past that it forgets them all. */
export const MAX_CONTEXTS = 256;

/** Most jobs the host sends the isolate in one call (PolicyHost.runBatch): one admission review each. */
export const MAX_BATCH = 64;

/** A finding plus where it points, so the main thread can map it to file:line with its own locators. */
export interface WorkerFinding extends Finding {
  resourceIndex: number;
  segments: PathSegments;
}

/** A policy's definition without its code: what the main thread needs to list, match and report it. */
export interface PolicyMeta {
  id: string;
  title: string;
  description?: string;
  area: string;
  severity: Severity;
  action: Action;
  scope: Scope;
  match: MatchSpec;
  exclude?: ExcludeSpec;
  params: Params;
  examples: { pass: Example[]; fail: Example[] };
}
