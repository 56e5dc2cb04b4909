import type { KubeObject } from '../../src/index.js';

/**
 * Live state of one cluster, read-only, through @kubernetes/client-node.
 * (Placeholder until the live reader lands: it says so instead of pretending to read a cluster.)
 */

export interface LiveReadOptions {
  /** Path of the kubeconfig file (`~` already expanded by the caller). */
  kubeconfig: string;
  /** Context to use; the kubeconfig's current context when absent. */
  context?: string;
  /** The kinds to list (what the repo declares and what policies need). */
  kinds: { apiVersion: string; kind: string }[];
  /** Budget for the whole cluster, in milliseconds. */
  timeoutMs?: number;
  /** Page size for list calls (`limit`). */
  pageSize?: number;
  signal?: AbortSignal;
}

export interface LiveReadResult {
  objects: KubeObject[];
  /** Things worth telling that did not stop the read (a kind the server does not serve, a list that was forbidden). */
  warnings: string[];
}

/** A cluster that could not be read: `unreachable` (network, TLS, timeout) or `error` (the API answered, but not usefully). */
export class ClusterReadError extends Error {
  constructor(
    message: string,
    readonly status: 'unreachable' | 'error',
  ) {
    super(message);
    this.name = 'ClusterReadError';
  }
}

export async function readLiveCluster(_opts: LiveReadOptions): Promise<LiveReadResult> {
  throw new ClusterReadError('live cluster reading is not available in this build', 'error');
}
