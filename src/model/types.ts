/**
 * The vocabulary shared by the engine, the webhook, the scanner and the CLI.
 * Kept free of logic so every entry point can depend on it without pulling anything else in.
 */

export type Severity = 'critical' | 'high' | 'medium' | 'low';
export type Action = 'deny' | 'warn' | 'audit';
export type Scope = 'object' | 'namespace' | 'cluster' | 'fleet';
export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];
export const ACTIONS: readonly Action[] = ['deny', 'warn', 'audit'];

/** Rank for `--fail-on`: a finding fails the run when its rank is >= the threshold's. */
export const SEVERITY_RANK: Record<Severity, number> = { low: 1, medium: 2, high: 3, critical: 4 };

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** Any Kubernetes object as parsed from YAML/JSON or received from the API. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

export interface ResourceRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** A path into an object, as segments: `['spec', 'containers', 0, 'image']`. */
export type PathSegments = readonly (string | number)[];

export interface Finding {
  policy: string;
  severity: Severity;
  action: Action;
  message: string;
  resource: ResourceRef;
  /** JSONPath of the offending field in the object as given, e.g. `$.spec.containers[0].image`. */
  path: string;
  source?: SourceLocation;
  /** Set when the policy itself failed on this resource (it threw); the message says why. */
  error?: true;
  /** Other policies that found the same field for the same reason (reports keep one finding per field). */
  also?: string[];
  /** The cluster the finding is about, where a report spans clusters (fleet rules, `lint --fleet`). */
  cluster?: string;
}

/** Where a problem with the input itself (not a policy finding) was found. */
export interface InputError {
  file: string;
  line?: number;
  column?: number;
  message: string;
}

/** Label selector as Kubernetes writes it. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}
