import type { Series, Trend } from './queries.js';

type Line = Series;

/** SVG line charts of scores over runs, inline (no script, no external asset), for `history trend --format html` and the scan report. */

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const PALETTE = ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a', '#ef6c00', '#00838f', '#4e342e', '#ad1457'];

/** One chart: x = runs (in order), y = score; the y range is fitted to the data so small moves show. */
export function lineChart(title: string, times: readonly string[], series: readonly Line[], opts: { width?: number; height?: number } = {}): string {
  const W = opts.width ?? 640;
  const H = opts.height ?? 200;
  const pad = { l: 44, r: 150, t: 10, b: 24 };
  const vals = series.flatMap((s) => s.scores.filter((x): x is number => x !== null));
  if (!vals.length || !times.length) return `<figure><figcaption>${esc(title)}</figcaption><p>No scores yet.</p></figure>`;
  let lo = Math.floor(Math.min(...vals) - 1);
  let hi = Math.ceil(Math.max(...vals) + 1);
  lo = Math.max(0, lo);
  hi = Math.min(100, Math.max(hi, lo + 2));
  const x = (i: number) => pad.l + (times.length === 1 ? (W - pad.l - pad.r) / 2 : (i / (times.length - 1)) * (W - pad.l - pad.r));
  const y = (v: number) => pad.t + (1 - (v - lo) / (hi - lo)) * (H - pad.t - pad.b);
  const lines = series
    .map((s, k) => {
      const color = PALETTE[k % PALETTE.length];
      const pts = s.scores.map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`));
      const path = pts.reduce<string>((acc, p) => (p === null ? `${acc} ` : acc + (acc === '' || acc.endsWith(' ') ? 'M' : 'L') + p), '');
      const lastIdx = s.scores.map((v, i) => (v === null ? -1 : i)).filter((i) => i >= 0).pop() ?? 0;
      const dots = s.scores.map((v, i) => (v === null ? '' : `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${color}"><title>${esc(s.name)} ${esc(times[i])}: ${v}</title></circle>`)).join('');
      return (
        `<path d="${path.trim()}" fill="none" stroke="${color}" stroke-width="1.8"/>${dots}` +
        `<text x="${W - pad.r + 6}" y="${(y(s.scores[lastIdx] ?? lo) + 4).toFixed(1)}" fill="${color}">${esc(s.name)} ${s.scores[lastIdx] ?? ''}</text>`
      );
    })
    .join('');
  const axis = [lo, (lo + hi) / 2, hi]
    .map((v) => `<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${pad.l - 4}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(0)}</text>`)
    .join('');
  const xl = `<text x="${pad.l}" y="${H - 6}">${esc(times[0].slice(0, 16))}</text>${times.length > 1 ? `<text x="${W - pad.r}" y="${H - 6}" text-anchor="end">${esc(times[times.length - 1].slice(0, 16))}</text>` : ''}`;
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" class="trend" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${axis}${lines}${xl}</svg></figure>`;
}

export function fleetSeries(t: Trend): Line {
  return { name: 'fleet', scores: t.runs.map((r) => r.score) };
}

export function fleetObjectSeries(t: Trend): Line {
  return { name: 'fleet objects', scores: t.runs.map((r) => r.objectScore) };
}

const latest = (xs: readonly (number | null)[]) => [...xs].reverse().find((v) => v !== null) ?? null;

/**
 * The clusters worst first by their latest objectScore (it separates them), then by score; each as its pair of
 * series (objects, score). Clusters recorded before the store had objectScore sort by score.
 */
export function worstClusters(t: Trend, n: number): { objects: Series[]; scores: Series[] } {
  const objects = new Map(t.objects.clusters.map((s) => [s.name, s]));
  const key = (s: Series) => [latest(objects.get(s.name)?.scores ?? []) ?? latest(s.scores) ?? -1, latest(s.scores) ?? -1];
  const worst = [...t.clusters].sort((a, b) => key(a)[0] - key(b)[0] || key(a)[1] - key(b)[1] || (a.name < b.name ? -1 : 1)).slice(0, n);
  return { scores: worst, objects: worst.map((s) => objects.get(s.name) ?? { name: s.name, scores: s.scores.map(() => null) }) };
}

/** `history trend --format html`: a self-contained page. */
export function trendHtml(t: Trend, opts: { clusters?: number } = {}): string {
  const times = t.runs.map((r) => r.time);
  const worst = worstClusters(t, opts.clusters ?? 8);
  const charts = [
    lineChart('Fleet score', times, [fleetSeries(t)]),
    lineChart('Fleet object score', times, [fleetObjectSeries(t)]),
    ...Object.entries(t.by).map(([k, s]) => lineChart(`Score by ${k}`, times, s)),
    ...Object.entries(t.objects.by).map(([k, s]) => lineChart(`Object score by ${k}`, times, s)),
    lineChart(`Worst ${worst.scores.length} clusters (latest object score)`, times, worst.objects),
    lineChart(`Worst ${worst.scores.length} clusters (score)`, times, worst.scores),
  ].join('\n');
  const rows = t.runs.map((r) => `<tr><td>${esc(r.run)}</td><td>${esc(r.time)}</td><td><code>${esc(r.commit?.slice(0, 10) ?? '—')}</code></td><td>${r.score ?? '—'}</td><td>${r.objectScore ?? '—'}</td><td>${r.scored}/${r.clusters}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fleetgate compliance trend</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}svg text{font:11px system-ui,sans-serif}figcaption{font-weight:600}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left}code{background:#f4f4f4}</style></head><body>
<h1>Compliance over time</h1>
<p>${t.runs.length} runs${t.runs.length ? `, ${esc(t.runs[0].time)} to ${esc(t.runs[t.runs.length - 1].time)}` : ''}.</p>
${charts}
<h2>Runs</h2><table><tr><th>run</th><th>time</th><th>commit</th><th>fleet score</th><th>object score</th><th>scored</th></tr>${rows}</table>
</body></html>
`;
}
