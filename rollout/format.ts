import { BOLD, DIM, GREEN, RED, YELLOW, type Paint } from '../src/report/index.js';
import type { Blocker } from './gates.js';
import type { RolloutReport } from './status.js';

const STATE_COLOR = { ready: GREEN, waiting: YELLOW, blocked: RED } as const;

function where(b: Blocker): string {
  return b.source ? ` (${b.source.file}:${b.source.line})` : '';
}

function blockerLine(b: Blocker): string {
  const clusters = b.clusters && b.clusters.length > 1 ? `${b.clusters.length} clusters (${b.clusters.slice(0, 3).join(', ')}${b.clusters.length > 3 ? ', …' : ''})` : b.cluster;
  return `${clusters}: ${[b.policy, b.resource].filter(Boolean).join(' ')}${b.policy || b.resource ? ': ' : ''}${b.message}${where(b)}`;
}

export function formatRolloutsPretty(reports: readonly RolloutReport[], paint: Paint): string {
  if (!reports.length) return 'No PolicyRollout in the config repo.\n';
  const lines: string[] = [];
  for (const r of reports) {
    const at = r.stage < 0 ? 'not started' : `stage ${r.stage}${r.batch !== undefined ? ` batch ${r.batch}` : ''}${r.since ? ` since ${r.since}` : ''}`;
    lines.push(paint(BOLD, `${r.name}`) + ` — ${r.policies.join(', ')} — ${at}${r.paused ? paint(YELLOW, ' (paused)') : ''}`);
    for (const s of r.stages) {
      const mark = s.state === 'done' ? paint(GREEN, '✓') : s.state === 'current' ? paint(BOLD, '▶') : paint(DIM, '·');
      const batches = s.batchSize ? ` in ${s.batches} batch(es) of ${s.batchSize}${s.batchesReached !== undefined ? `, ${s.batchesReached} reached` : ''}` : '';
      lines.push(`  ${mark} ${s.index}: cohorts ${s.cohorts.join(', ')} → ${s.action}${s.soak ? `, soak ${s.soak}` : ''} — ${s.clusters.length} cluster(s)${batches}`);
    }
    const byAction = new Map<string, number>();
    for (const c of r.clusters) byAction.set(c.action, (byAction.get(c.action) ?? 0) + 1);
    lines.push(`  clusters now: ${[...byAction].map(([a, n]) => `${n} ${a}`).join(', ') || 'none'}`);
    if (!r.next) lines.push(paint(GREEN, '  complete: the last stage is reached'));
    else {
      lines.push(`  next: stage ${r.next.stage}${r.next.batch !== undefined ? ` batch ${r.next.batch}` : ''} (${r.next.clusters.length} cluster(s)) — ${paint(STATE_COLOR[r.next.state], r.next.state)}: ${r.next.reason}`);
      for (const b of r.next.blockers.slice(0, 20)) lines.push(`    - ${blockerLine(b)}`);
      if (r.next.blockers.length > 20) lines.push(`    … and ${r.next.blockers.length - 20} more (--format json lists all)`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}`;
}

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One self-contained page: a progress bar per rollout (clusters per action) and the next step's blockers. */
export function formatRolloutsHtml(reports: readonly RolloutReport[], now: Date): string {
  const colors: Record<string, string> = { deny: '#c0392b', warn: '#e67e22', audit: '#7f8c8d' };
  const body = reports.map((r) => {
    const total = r.clusters.length || 1;
    const counts = new Map<string, number>();
    for (const c of r.clusters) counts.set(c.action, (counts.get(c.action) ?? 0) + 1);
    const bar = [...counts].map(([a, n]) => `<span class="seg" style="width:${(100 * n) / total}%;background:${colors[a] ?? '#999'}" title="${esc(`${n} ${a}`)}">${esc(`${n} ${a}`)}</span>`).join('');
    const stages = r.stages.map((s) => `<tr class="${s.state}"><td>${s.index}</td><td>${esc(s.cohorts.join(', '))}</td><td>${esc(s.action)}</td><td>${esc(s.soak ?? '')}</td><td>${s.clusters.length}${s.batchSize ? ` (${s.batchesReached ?? 0}/${s.batches} batches)` : ''}</td><td>${s.state}</td></tr>`).join('');
    const next = r.next
      ? `<p class="next ${r.next.state}">Next: stage ${r.next.stage}${r.next.batch !== undefined ? ` batch ${r.next.batch}` : ''} — <b>${r.next.state}</b>: ${esc(r.next.reason)}</p>` +
        (r.next.blockers.length ? `<ul>${r.next.blockers.map((b) => `<li>${esc(blockerLine(b))}</li>`).join('')}</ul>` : '')
      : '<p class="next ready">Complete: the last stage is reached.</p>';
    return `<section><h2>${esc(r.name)}</h2><p>${esc(r.policies.join(', '))}${r.paused ? ' — <b>paused</b>' : ''}</p><div class="bar">${bar}</div>
<table><tr><th>stage</th><th>cohorts</th><th>action</th><th>soak</th><th>clusters</th><th>state</th></tr>${stages}</table>${next}</section>`;
  }).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>fleetgate rollouts</title><style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}.bar{display:flex;height:1.6em;border:1px solid #ccc;margin:.5em 0}
.seg{color:#fff;font-size:.8em;overflow:hidden;white-space:nowrap;padding:0 .3em;line-height:1.6em}table{border-collapse:collapse}
td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left}tr.current{font-weight:bold}tr.done{color:#2e7d32}
.next.blocked{color:#c0392b}.next.waiting{color:#e67e22}.next.ready{color:#2e7d32}
</style></head><body><h1>Policy rollouts</h1><p>As of ${esc(now.toISOString())}</p>${body || '<p>No PolicyRollout in the config repo.</p>'}</body></html>
`;
}
