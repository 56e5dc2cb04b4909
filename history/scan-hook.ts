import type { Finding } from '../src/index.js';
import type { Fleet } from '../scanner/fleet.js';
import type { ClusterReport, FleetHead, FleetReport } from '../scanner/scan.js';

/** A scan whose clusters stream by (scanner/stream.ts): its head, and its clusters read back on demand. */
export interface StreamedRun {
  head: FleetHead;
  clusters(): AsyncIterable<ClusterReport>;
}
import { convergence, type Convergence } from './converge.js';
import { esc, fleetObjectSeries, fleetSeries, lineChart, worstClusters } from './html.js';
import { diffRuns, listRuns, trend } from './queries.js';
import { fingerprint, recordRun, recordRunStream, type RunMeta } from './record.js';
import { openStore, type Store } from './store.js';

/**
 * What `scan --history URL` does after the scan: record the run, and for the HTML report read back the trend, the
 * marks against the previous run and the convergence of the config commit. A store failure is returned (the scan
 * still writes its report), never thrown.
 */

export interface HtmlHistory {
  /** Fleet and worst-cluster score trend charts. */
  trend: string;
  convergence: string;
  isNew(cluster: string, f: Finding): boolean;
  /** "Fixed since last run" rows of one cluster (HTML list items). */
  fixed(cluster: string): string[];
  runs: number;
}

export async function recordScan(
  url: string,
  report: FleetReport | StreamedRun,
  fleet: Fleet | undefined,
  meta: RunMeta & { html?: boolean },
): Promise<{ error?: string; run?: string; html?: HtmlHistory }> {
  let store: Store | undefined;
  try {
    store = await openStore(url);
    const rec =
      'head' in report
        ? await recordRunStream(store, { fleet: report.head.fleet, shard: report.head.shard, clusters: report.head.summary.clusters }, report.clusters(), meta)
        : await recordRun(store, report, meta);
    if (!meta.html) return { run: rec.run };
    const runs = await listRuns(store, { last: 30 });
    const t = await trend(store, { last: 30, by: [] });
    const cur = runs.find((r) => r.run === rec.run)!;
    const prev = runs.filter((r) => r.id !== cur.id && r.time <= cur.time).pop();
    const d = prev ? await diffRuns(store, prev, cur) : undefined;
    const newFp = new Set(d?.newFindings.map((f) => f.fingerprint));
    const fixed = new Map<string, string[]>();
    for (const f of d?.resolvedFindings ?? []) fixed.set(f.cluster, [...(fixed.get(f.cluster) ?? []), `${esc(f.policy)} [${esc(f.severity)}] ${esc(f.resource)}`]);
    for (const x of d?.fixedDrift ?? []) fixed.set(x.cluster, [...(fixed.get(x.cluster) ?? []), `drift ${esc(x.state)} ${esc(x.resource)}`]);
    let conv: Convergence | undefined;
    if (meta.commit && fleet) conv = await convergence(store!, fleet, meta.commit, { graceMs: 0 }).catch(() => undefined);
    const worst = worstClusters(t, 8);
    const times = t.runs.map((r) => r.time);
    return {
      run: rec.run,
      html: {
        runs: t.runs.length,
        trend:
          lineChart(`Fleet score, last ${t.runs.length} runs`, times, [fleetSeries(t)]) +
          lineChart(`Fleet object score, last ${t.runs.length} runs`, times, [fleetObjectSeries(t)]) +
          lineChart('Object score trend of the worst clusters', times, worst.objects) +
          lineChart('Score trend of the worst clusters', times, worst.scores),
        convergence: conv ? convergenceHtml(conv) : '',
        isNew: (cluster, f) => !!prev && newFp.has(fingerprint(cluster, f)),
        fixed: (cluster) => fixed.get(cluster) ?? [],
      },
    };
  } catch (err) {
    return { error: (err as Error).message };
  } finally {
    await store?.close().catch(() => {});
  }
}

function convergenceHtml(c: Convergence): string {
  const rows = c.objects
    .map(
      (o) =>
        `<tr class="${o.differing.length ? 'bad' : ''}"><td>${esc(o.resource)}</td><td>${o.inSync}/${o.clusters}</td><td>${o.differing
          .slice(0, 10)
          .map((s) => `${esc(s.cluster)}: ${esc(s.state)} ${esc(s.reason ?? '')}`)
          .join('<br>')}${o.differing.length > 10 ? `<br>… ${o.differing.length - 10} more` : ''}</td></tr>`,
    )
    .join('');
  return `<h2>Convergence of commit <code>${esc(c.commit.sha.slice(0, 10))}</code> “${esc(c.commit.subject)}”</h2><p>${c.converged ? 'Every changed object is in sync on every cluster that should have it.' : '<span class="bad">Not converged yet.</span>'}</p>${rows ? `<table><tr><th>object</th><th>in sync</th><th>still differing</th></tr>${rows}</table>` : '<p>The commit changed no object of a layer.</p>'}`;
}
