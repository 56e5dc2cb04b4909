import type { ClusterContext } from '../context.js';
import type { Finding, KubeObject, Operation, PathSegments, Scope } from '../../model/index.js';

/** Messages between the main thread and a policy worker. Everything here is structured-clone data. */

export interface WorkerSetup {
  /** User policy files to load in the worker. */
  files: string[];
  /** Shared progress cell: [resource index, policy index] of what is running now. */
  progress: SharedArrayBuffer;
}

export interface JobRequest {
  id: number;
  /** The cluster the objects belong to (one pool serves every cluster of a fleet scan). */
  cluster: ClusterContext;
  objects: KubeObject[];
  operation?: Operation;
  oldObject?: KubeObject;
  scopes?: Scope[];
  /** Labels of the namespaces the objects live in, when they come from outside the objects (admission's cache). */
  namespaceLabels?: Record<string, Record<string, string>>;
  /** Policies stopped earlier in this job (they looped or blew the budget): not run again. */
  disabled: string[];
  now: number;
}

/** A finding plus where it points, so the main thread can map it to file:line with its own locators. */
export interface WorkerFinding extends Finding {
  resourceIndex: number;
  segments: PathSegments;
}

export type JobResponse =
  | { id: number; ok: true; findings: WorkerFinding[]; objects: number; checks: Record<string, number> }
  | { id: number; ok: false; error: string };

export type WorkerMessage = { ready: true; policies: string[] } | { ready: false; error: string } | JobResponse;
