import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import type { FleetCluster } from './fleet.js';
import { clusterReports, SOURCE, type ReportApi, type ReportOptions } from './policy-reports.js';
import type { ClusterReport } from './scan.js';
import { redactSecrets } from './scan.js';

/**
 * `scan --publish-reports`: each live cluster's reports go into that cluster, so Policy Reporter or Kyverno's UI
 * there shows fleetgate's findings beside its own. Server-side apply with field manager `fleetgate` (idempotent:
 * the same scan applied twice changes nothing), then the reports fleetgate wrote on an earlier run that this run
 * did not write again (a namespace now clean, or gone) are deleted — found by the labels fleetgate puts on them.
 *
 * Needs, in every scanned cluster, `list create patch delete` on the report resources of the chosen API
 * (the chart's `reportWriter` ClusterRole). A failure is reported per cluster and never fails the scan.
 */
export interface PublishResult {
  cluster: string;
  applied: number;
  deleted: number;
  /** Why something was not published (credential-free). */
  errors: string[];
}

const FIELD_MANAGER = 'fleetgate';

const KINDS: Record<ReportApi, { apiVersion: string; kinds: [string, boolean][] }> = {
  policyreport: { apiVersion: 'wgpolicyk8s.io/v1alpha2', kinds: [['ClusterPolicyReport', false], ['PolicyReport', true]] },
  openreports: { apiVersion: 'openreports.io/v1alpha1', kinds: [['ClusterReport', false], ['Report', true]] },
};

function describe(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  let msg = e?.message ?? String(err);
  const body = typeof e?.body === 'string' ? safeJson(e.body) : e?.body;
  if (body && typeof body === 'object' && 'message' in body) msg = `${e.code ?? ''} ${(body as { message: string }).message}`.trim();
  return redactSecrets(msg.split('\n')[0]);
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** Publishes one cluster's reports into it. Snapshot clusters and clusters that could not be read are skipped. */
export async function publishClusterReports(cluster: FleetCluster, report: ClusterReport, api: ReportApi, opts: ReportOptions = {}): Promise<PublishResult | undefined> {
  if (!('kubeconfig' in cluster.source) || report.status !== 'ok') return undefined;
  const result: PublishResult = { cluster: cluster.name, applied: 0, deleted: 0, errors: [] };
  let client: KubernetesObjectApi;
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.source.kubeconfig);
    if (cluster.source.context) kc.setCurrentContext(cluster.source.context);
    client = KubernetesObjectApi.makeApiClient(kc);
  } catch (err) {
    result.errors.push(`cannot load the kubeconfig: ${describe(err)}`);
    return result;
  }
  const docs = clusterReports(report, api, opts) as unknown as KubernetesObject[];
  const written = new Set<string>();
  for (const doc of docs) {
    const where = `${doc.kind} ${doc.metadata?.namespace ? `${doc.metadata.namespace}/` : ''}${doc.metadata?.name}`;
    try {
      await client.patch(doc, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      written.add(`${doc.kind}/${doc.metadata?.namespace ?? ''}/${doc.metadata?.name}`);
      result.applied++;
    } catch (err) {
      result.errors.push(`${where}: ${describe(err)}`);
      // Missing RBAC refuses every other write the same way: say it once.
      if ((err as { code?: number }).code === 403 || (err as { code?: number }).code === 401) return result;
    }
  }
  // Stale reports of earlier runs: ours (managed-by and cluster labels) but not written now.
  const { apiVersion, kinds } = KINDS[api];
  const selector = `app.kubernetes.io/managed-by=${SOURCE},fleetgate.io/cluster=${cluster.name}`;
  for (const [kind] of kinds) {
    try {
      const list = await client.list(apiVersion, kind, undefined, undefined, undefined, undefined, undefined, selector);
      for (const item of list.items) {
        const labels = item.metadata?.labels ?? {};
        if (labels['app.kubernetes.io/managed-by'] !== SOURCE || labels['fleetgate.io/cluster'] !== cluster.name) continue;
        if (written.has(`${kind}/${item.metadata?.namespace ?? ''}/${item.metadata?.name}`)) continue;
        await client.delete({ apiVersion, kind, metadata: { name: item.metadata?.name, namespace: item.metadata?.namespace } });
        result.deleted++;
      }
    } catch (err) {
      result.errors.push(`cleaning up earlier ${kind}s: ${describe(err)}`);
    }
  }
  return result;
}
