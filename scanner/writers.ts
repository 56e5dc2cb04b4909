import type { Paint } from '../src/report/index.js';
import type { HtmlExtras } from './html.js';
import type { Output } from './output.js';
import type { ClusterReport, FleetHead } from './scan.js';
import { Spool } from './spool.js';

/**
 * The report formats of a streamed scan (stream.ts): each reads the clusters once, in fleet order, and keeps what
 * its format needs beyond the cluster at hand — JSON and policy reports nothing, pretty a line per cluster and the
 * worst few, HTML a line per cluster while each section waits on disk for its place (worst first). The output is
 * the same text the in-memory formatters (formatJson, formatPretty, formatHtml, formatReports) give.
 * Each format's module is loaded only when that format is asked for.
 */
export type ReportFormat = 'pretty' | 'json' | 'html' | 'policyreport' | 'openreports';

export interface WriteOptions {
  /** policyreport/openreports: a pass result per policy. */
  passes?: boolean;
  html?: HtmlExtras;
  paint?: Paint;
  /** json: each cluster's JSON already serialized (scanner/record.ts), in fleet order, used instead of `clusters`. */
  json?: AsyncIterable<Uint8Array>;
}

export async function writeReport(format: ReportFormat, out: Output, head: FleetHead, clusters: AsyncIterable<ClusterReport>, opts: WriteOptions = {}): Promise<void> {
  switch (format) {
    case 'json':
      return writeJson(out, head, opts.json ?? clusters);
    case 'html':
      return writeHtml(out, head, clusters, opts.html);
    case 'policyreport':
    case 'openreports':
      return writePolicyReports(out, clusters, format, !!opts.passes);
    default:
      return writePretty(out, head, clusters, opts.paint ?? ((_c, s) => s));
  }
}

const MARK = '\u0000clusters\u0000';

/**
 * `JSON.stringify(report, null, 2)`, written a cluster at a time: the head (score first, as in the contract) is
 * serialized with a placeholder where the clusters array goes, and each cluster is serialized on its own at the
 * array's indentation (JSON strings hold no raw newline, so indenting every line is exact) — or, given as bytes,
 * copied as it is (a ClusterRecord's body is that same text).
 */
export async function writeJson(out: Output, head: FleetHead, clusters: AsyncIterable<ClusterReport | Uint8Array>): Promise<void> {
  const ordered: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(head)) {
    ordered[k] = v;
    if (k === 'summary') ordered.clusters = MARK;
  }
  const text = JSON.stringify(ordered, null, 2);
  const token = JSON.stringify(MARK);
  const at = text.indexOf(token);
  await out.write(`${text.slice(0, at)}[`);
  let first = true;
  for await (const c of clusters) {
    if (c instanceof Uint8Array) {
      await out.write(first ? '\n    ' : ',\n    ');
      await out.write(c);
    } else await out.write(`${first ? '\n' : ',\n'}    ${JSON.stringify(c, null, 2).replace(/\n/g, '\n    ')}`);
    first = false;
  }
  await out.write(`${first ? ']' : '\n  ]'}${text.slice(at + token.length)}\n`);
}

async function writePretty(out: Output, head: FleetHead, clusters: AsyncIterable<ClusterReport>, paint: Paint): Promise<void> {
  const { PrettyReport } = await import('./report.js');
  const pretty = new PrettyReport();
  for await (const c of clusters) pretty.add(c);
  await out.write(pretty.render(head, paint));
}

async function writeHtml(out: Output, head: FleetHead, clusters: AsyncIterable<ClusterReport>, extras: HtmlExtras = {}): Promise<void> {
  const [{ HtmlReport, HTML_TAIL }, { worstByObjects }] = await Promise.all([import('./html.js'), import('./aggregates.js')]);
  const html = new HtmlReport(extras);
  const sections = await Spool.create<string>('fleetgate-html-');
  try {
    const order: { key: number; name: string; score: number | null; objectScore?: number | null }[] = [];
    for await (const c of clusters) {
      const key = order.length;
      order.push({ key, name: c.name, score: c.score, objectScore: c.objectScore });
      await sections.put(key, html.section(c));
    }
    order.sort(worstByObjects);
    await out.write(html.top(head));
    for (const [i, o] of order.entries()) await out.write(`${i ? '\n' : ''}${await sections.get(o.key)}`);
    await out.write(HTML_TAIL);
  } finally {
    await sections.close();
  }
}

async function writePolicyReports(out: Output, clusters: AsyncIterable<ClusterReport>, api: 'policyreport' | 'openreports', passes: boolean): Promise<void> {
  const [{ clusterReports }, { stringify }] = await Promise.all([import('./policy-reports.js'), import('yaml')]);
  let first = true;
  for await (const c of clusters)
    for (const doc of clusterReports(c, api, { passes })) {
      await out.write(`${first ? '' : '---\n'}${stringify(doc, { lineWidth: 0 })}`);
      first = false;
    }
}
