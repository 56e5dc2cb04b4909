/**
 * Shared setup for the live-reader tests: a double, a temp folder for kubeconfigs, fast retry settings and a
 * canonical form of a read result for "identical to a clean run" comparisons.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiDouble, type ApiDouble, type ClusterOptions, type KubeconfigOptions } from '../../testkit/api-double.js';
import type { LiveReadResult, RetryOptions } from '../../scanner/live/index.js';

/** Retries that keep tests fast: real backoff shape, tiny delays. */
export const FAST_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 200, listRestarts: 3 };

export interface Fixture {
  api: ApiDouble;
  dir: string;
  /** Adds a cluster to the double and writes its kubeconfig; returns the kubeconfig path. */
  cluster(name: string, opts?: ClusterOptions, kubeconfig?: KubeconfigOptions): string;
  close(): Promise<void>;
}

export async function fixture(): Promise<Fixture> {
  const api = await startApiDouble();
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-live-'));
  return {
    api,
    dir,
    cluster(name, opts, kubeconfig) {
      api.addCluster(name, opts);
      return api.writeKubeconfig(join(dir, `${name}.kubeconfig`), [name], kubeconfig);
    },
    async close() {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The objects of a read, as a stable string (order included). */
export function canonical(r: Pick<LiveReadResult, 'objects'>): string {
  return JSON.stringify(r.objects);
}
