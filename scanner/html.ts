import { describeRef } from '../src/index.js';
import { FleetAggregates, worstByObjects } from './aggregates.js';
import type { HtmlHistory } from '../history/index.js';
import type { ClusterReport, FleetHead, FleetReport } from './scan.js';
import { SEVERITY_WEIGHT } from './score.js';
import { rolloutsHtml } from './rollouts.js';
import { fleetRulesHtml } from './fleet-rules.js';
import type { CohortReadiness } from './upgrade-readiness.js';

/**
 * One self-contained HTML file: inline CSS and SVG charts, no script, no external asset; opens from disk. With a history store (scan --history) it adds the score trends,
 * "new since last run" / "fixed since last run" marks and the convergence of the config commit.
 */
export interface HtmlExtras {
  time?: Date;
  commit?: string | null;
  history?: HtmlHistory;
}

const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
/** The filter works without script (the report has none): checkboxes, and CSS :has() hides what they leave out. */
const FILTER_CSS =
  SEVERITIES.map((v) => `body:has(#f-${v}:not(:checked)) tr.sev-${v}{display:none}`).join('') +
  'body:has(#f-new:checked) tr.row:not(.is-new){display:none}body:has(#f-failing:checked) details.clean{display:none}';
const FILTER_FORM = `<form class="filter" aria-label="filter">Show findings of severity ${SEVERITIES.map((v) => `<label><input type="checkbox" id="f-${v}" checked> ${v}</label>`).join(' ')} · <label><input type="checkbox" id="f-new"> only new since last run</label> · <label><input type="checkbox" id="f-failing"> only clusters with drift or findings</label> <small>(search: the browser's find, Ctrl+F)</small></form>`;

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function color(score: number): string {
  return score >= 90 ? '#2e7d32' : score >= 70 ? '#f9a825' : '#c62828';
}

/** Horizontal bar chart: one row per item, value 0–100. */
function barChart(title: string, rows: { label: string; value: number; note?: string }[]): string {
  const rowH = 18;
  // ~7.5 px per character at the 12 px font, so the longest policy id (44 characters) is never cut off.
  const labelW = Math.min(360, Math.max(80, ...rows.map((r) => Math.ceil(r.label.length * 7.5) + 12)));
  const barW = 420;
  const h = rows.length * rowH + 30;
  const bars = rows
    .map((r, i) => {
      const y = 24 + i * rowH;
      const w = Math.max(1, (r.value / 100) * barW);
      return (
        `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${esc(r.label)}</text>` +
        `<rect x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 5}" fill="${color(r.value)}"><title>${esc(r.label)}: ${r.value}${r.note ? ` (${esc(r.note)})` : ''}</title></rect>` +
        `<text x="${labelW + w + 4}" y="${y + 12}">${r.value === 0 ? '<tspan class="zero">0% PASS</tspan>' : r.value.toFixed(1)}${r.note ? ` · ${esc(r.note)}` : ''}</text>`
      );
    })
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 160}" height="${h}" role="img" aria-label="${esc(title)}">${bars}</svg></figure>`;
}

/** Upgrade readiness per cohort: how many clusters are ready for their target release, and what blocks the rest. */
function readinessHtml(rows: readonly CohortReadiness[]): string {
  if (!rows.some((r) => r.blocked.length || r.deprecated)) return '';
  const body = rows
    .map(
      (r) =>
        `<tr><td>${esc(r.cohort)}</td><td>${esc(r.targets.join(', ') || '—')}</td><td>${r.ready}/${r.clusters}${r.unknown ? ` (${r.unknown} not scanned)` : ''}</td><td>${r.deprecated}</td><td>${r.blocked
          .map((b) => `<b>${esc(b.cluster)}</b>: ${b.blockers.map(esc).join('<br>')}`)
          .join('<br>')}</td></tr>`,
    )
    .join('');
  return `<h2>Upgrade readiness per cohort</h2><table><tr><th>cohort</th><th>target</th><th>ready</th><th>deprecated-API findings</th><th>blockers</th></tr>${body}</table>`;
}

/**
 * The HTML report, built as clusters stream by: each cluster's section is rendered when it passes (and can be
 * spooled to disk by the caller), the charts and tables above them come from the aggregates, and `top` is asked
 * for once every cluster has been added. Sections go worst first by objectScore (`worstByObjects` on each
 * section's key): it separates clusters that `score` puts within a point.
 */
export class HtmlReport {
  readonly agg = new FleetAggregates();

  constructor(private readonly opts: { maxClusterBars?: number } & HtmlExtras = {}) {}

  /** The cluster's section (its details element). */
  section(c: ClusterReport): string {
    this.agg.add(c);
    const hist = this.opts.history;
    const zero = c.score === 0 || c.objectScore === 0 ? '<span class="zero">0% PASS</span> ' : '';
    const objects = typeof c.objectScore === 'number' ? `, object score <b style="color:${color(c.objectScore)}">${c.objectScore.toFixed(1)}</b>` : '';
    const head = `<summary><b>${esc(c.name)}</b> — ${zero}${c.score === null ? `<span class="bad">${esc(c.status)}</span>: ${esc(c.error ?? '')}` : `score <b style="color:${color(c.score)}">${c.score.toFixed(1)}</b>${objects}, in sync ${c.inSync}/${c.desired}, ${c.drift.length} drifted, ${c.findings.length} findings`} <small>${esc(Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(' '))}</small></summary>`;
    if (c.score === null) return `<details class="cluster">${head}</details>`;
    const clean = c.drift.length || c.findings.length ? '' : ' clean';
    const driftRows = c.drift
      .map(
        (d) =>
          `<tr class="row"><td>${esc(d.state)}</td><td>${esc(describeRef(d.resource))}</td><td>${d.diffs.map((x) => `<code>${esc(x.path)}</code>: desired <code>${esc(JSON.stringify(x.desired))}</code>, live <code>${esc(JSON.stringify(x.live))}</code>`).join('<br>')}</td></tr>`,
      )
      .join('');
    const findingRows = [...c.findings]
      .sort((a, b) => SEVERITY_WEIGHT[b.severity] - SEVERITY_WEIGHT[a.severity] || (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0))
      .map((f) => `<tr class="row sev-${esc(f.severity)}${hist?.isNew(c.name, f) ? ' is-new' : ''}"><td>${hist?.isNew(c.name, f) ? '<span class="new">new</span> ' : ''}${esc(f.policy)}</td><td>${esc(f.severity)}/${esc(f.action)}</td><td>${esc(describeRef(f.resource))}</td><td>${esc(f.message)} <code>${esc(f.path)}</code></td></tr>`)
      .join('');
    const fixed = hist?.fixed(c.name) ?? [];
    const fixedList = fixed.length ? `<p class="fixed">Fixed since last run:</p><ul>${fixed.map((x) => `<li>${x}</li>`).join('')}</ul>` : '';
    return `<details class="cluster${clean}">${head}<p>Layers: ${esc(c.layers.join(', '))}</p>${fixedList}${driftRows ? `<table><tr><th>drift</th><th>resource</th><th>differences</th></tr>${driftRows}</table>` : '<p>No drift.</p>'}${findingRows ? `<table><tr><th>policy</th><th>severity/action</th><th>resource</th><th>finding</th></tr>${findingRows}</table>` : '<p>No findings.</p>'}</details>`;
  }

  /** Everything before the cluster sections (which follow, joined by newlines, then TAIL). */
  top(report: FleetHead): string {
    const { opts, agg } = this;
    const max = opts.maxClusterBars ?? 60;
    const hist = opts.history;
    const worst = agg.worstFirst();
    const scored = worst.filter((c) => c.score !== null);
    const clusterRows = scored.slice(0, max).map((c) => ({ label: c.name, value: c.score!, note: c.region }));
    const objectRows = [...scored]
      .sort(worstByObjects)
      .filter((c) => typeof c.objectScore === 'number')
      .slice(0, max)
      .map((c) => ({ label: c.name, value: c.objectScore!, note: c.region }));
    const regionRows = agg.byRegion().map((r) => ({ label: r.region, value: r.score, note: `${r.clusters} clusters` }));
    const policyRows = agg
      .policyAggregates()
      .map((p) => ({ label: p.policy, value: p.checks ? Math.round(((p.checks - p.failed) / p.checks) * 1000) / 10 : 100, note: `${p.failed}/${p.checks} failed` }))
      .sort((a, b) => a.value - b.value || (a.label < b.label ? -1 : 1));
    const unscored = worst.filter((c) => c.score === null);
    const drift = agg.driftAggregates().slice(0, 20);
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fleetgate fleet report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}h1{margin-bottom:0}.score{font-size:3em;font-weight:700}
figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}svg text{font:12px system-ui,sans-serif;fill:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
code{font-size:12px;background:#f4f4f4;padding:0 2px}.bad{color:#c62828;font-weight:600}details{margin:.3em 0}small{color:#777}
.zero{color:#fff;background:#c62828;font-weight:700;padding:0 4px;border-radius:3px}svg .zero{fill:#c62828;font-weight:700}
.new{background:#fdd835;font-weight:700;padding:0 3px;border-radius:3px}.fixed{color:#2e7d32;font-weight:600}.filter{margin:.5em 0}${FILTER_CSS}
</style></head><body>
<h1>Fleet compliance</h1>
<p>Scanned ${opts.time ? esc(opts.time.toISOString()) : '—'}; config commit <code>${opts.commit ? esc(opts.commit.slice(0, 12)) : 'not a git repository'}</code>${hist ? ` · history: ${hist.runs} runs` : ''}</p>
<p class="score" style="color:${report.score === null ? '#777' : color(report.score)}">${report.score === null ? '—' : report.score.toFixed(1)}<small> / 100</small></p>
${typeof report.objectScore === 'number' ? `<p>Object score <b style="color:${color(report.objectScore)}">${report.objectScore.toFixed(1)}</b> / 100 <small>(each judged object counted once, weighed by its worst policy; passes only with no failed check)</small></p>` : ''}
<p>${report.summary.clusters} clusters: ${report.summary.scored} scored, ${report.summary.unreachable} unreachable, ${report.summary.error} error. Fleet file: <code>${esc(report.fleet)}</code>${report.shard ? `, shard ${report.shard.index}/${report.shard.count}` : ''}.</p>
${unscored.length ? `<p class="bad">Not scored: ${unscored.map((c) => `${esc(c.name)} (${esc(c.status)}: ${esc(c.error ?? '')})`).join('; ')}</p>` : ''}
${objectRows.length ? barChart(`Object score per cluster, worst first${objectRows.length < scored.length ? ` (worst ${max} of ${scored.length})` : ''}`, objectRows) : ''}
${barChart(`Score per cluster, worst first${scored.length > max ? ` (worst ${max} of ${scored.length})` : ''}`, clusterRows)}
${hist ? hist.trend : ''}
${barChart('Score per region (mean of scored clusters)', regionRows)}
${barChart('Pass rate per policy (checks passed)', policyRows)}
${readinessHtml(agg.upgradeReadiness())}
${drift.length ? `<h2>Most common drift</h2><table><tr><th>state</th><th>resource</th><th>clusters</th></tr>${drift.map((d) => `<tr><td>${esc(d.state)}</td><td>${esc(d.resource)}</td><td>${d.clusters}</td></tr>`).join('')}</table>` : ''}
${hist ? hist.convergence : ''}
${rolloutsHtml(report.rollouts, esc)}
${fleetRulesHtml(report.fleetRules, agg.fleetFindings, esc)}
<h2>Clusters</h2>
${FILTER_FORM}
`;
  }
}

/** What follows the last cluster section. */
export const HTML_TAIL = '\n</body></html>\n';

export function formatHtml(report: FleetReport, opts: { maxClusterBars?: number } & HtmlExtras = {}): string {
  const html = new HtmlReport(opts);
  const sections = report.clusters.map((c) => ({ name: c.name, score: c.score, objectScore: c.objectScore, html: html.section(c) }));
  sections.sort(worstByObjects);
  return html.top(report) + sections.map((s) => s.html).join('\n') + HTML_TAIL;
}
