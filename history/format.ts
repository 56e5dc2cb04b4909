import { BOLD, DIM, GREEN, RED, YELLOW, type Paint } from '../src/report/index.js';
import type { Convergence } from './converge.js';
import { worstClusters } from './html.js';
import type { ClusterTimeline, FindingTimeline, RunDiff, Series, Trend } from './queries.js';

/** Terminal renderings of the history answers (JSON is the objects themselves). */

const BLOCKS = '▁▂▃▄▅▆▇█';

/** A sparkline of scores; the range is the series' own min..max so small moves show (· = no score). */
export function sparkline(scores: readonly (number | null)[]): string {
  const vals = scores.filter((s): s is number => s !== null);
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  return scores.map((s) => (s === null ? '·' : BLOCKS[hi === lo ? 7 : Math.round(((s - lo) / (hi - lo)) * 7)])).join('');
}

const short = (c: string | null) => (c ? c.slice(0, 10) : '—');
const num = (n: number | null | undefined) => (n === null || n === undefined ? '—' : n.toFixed(1));
const last = (s: Series) => [...s.scores].reverse().find((x) => x !== null) ?? null;

/** A score, and a plain mark when no judged object passes at all. */
function zeroMark(n: number | null, paint: Paint): string {
  return n === 0 ? paint(RED, '0.0 (0% pass)') : num(n);
}

export function prettyTrend(t: Trend, paint: Paint, opts: { top?: number; width?: number } = {}): string {
  const width = opts.width ?? 60;
  const runs = t.runs.slice(-width);
  const cut = (s: Series) => s.scores.slice(-width);
  const out: string[] = [];
  if (!t.runs.length) return 'No runs in the history store yet.\n';
  const first = runs[0];
  const latest = runs[runs.length - 1];
  out.push(paint(BOLD, `Fleet score over ${runs.length} run${runs.length === 1 ? '' : 's'}`) + paint(DIM, `  (${first.time} … ${latest.time})`));
  out.push(paint(DIM, '  score: checks weighed by severity; objects: each judged object once, by its worst policy (README: "What is checked")'));
  const runObjects = runs.map((r) => r.objectScore);
  out.push(`  fleet       ${sparkline(runs.map((r) => r.score))}  ${num(first.score)} → ${paint(BOLD, num(latest.score))}    objects ${sparkline(runObjects)}  ${num(first.objectScore)} → ${paint(BOLD, num(latest.objectScore))}`);
  for (const [key, series] of Object.entries(t.by)) {
    out.push('', paint(BOLD, `By ${key}`));
    const w = Math.max(10, ...series.map((s) => s.name.length));
    const objects = new Map((t.objects.by[key] ?? []).map((s) => [s.name, s]));
    for (const s of series) {
      const o = objects.get(s.name) ?? { name: s.name, scores: [] };
      out.push(`  ${s.name.padEnd(w)}  ${sparkline(cut(s))}  ${num(cut(s).find((x) => x !== null))} → ${num(last(s))}    objects ${sparkline(cut(o))}  ${num(cut(o).find((x) => x !== null))} → ${num(last(o))}`);
    }
  }
  const worst = worstClusters(t, opts.top ?? 10);
  if (worst.scores.length) {
    out.push('', paint(BOLD, `Clusters, worst ${worst.scores.length} of ${t.clusters.length} by the latest object score`));
    const w = Math.max(10, ...worst.scores.map((s) => s.name.length));
    worst.scores.forEach((s, i) => {
      const o = worst.objects[i];
      out.push(`  ${s.name.padEnd(w)}  score ${sparkline(cut(s))}  ${num(last(s))}    objects ${sparkline(cut(o))}  ${zeroMark(last(o), paint)}`);
    });
  }
  out.push('', paint(DIM, 'Runs'));
  for (const r of runs.slice(-10))
    out.push(paint(DIM, `  ${r.run}  ${r.time}  commit ${short(r.commit)}  score ${num(r.score)}  objects ${num(r.objectScore)}  ${r.scored}/${r.clusters} scored${r.shards > 1 ? `  shards ${r.shardsDone}/${r.shards}` : ''}`));
  out.push('');
  return out.join('\n');
}

export function prettyDiff(d: RunDiff, paint: Paint, opts: { limit?: number } = {}): string {
  const limit = opts.limit ?? 20;
  const out: string[] = [];
  const more = (n: number) => (n > limit ? [paint(DIM, `  … ${n - limit} more (--format json lists all)`)] : []);
  out.push(
    paint(BOLD, `From ${d.from.run} (commit ${short(d.from.commit)}, score ${num(d.from.score)}) to ${d.to.run} (commit ${short(d.to.commit)}, score ${num(d.to.score)})`),
    `  ${d.newFindings.length} new findings, ${d.resolvedFindings.length} resolved; ${d.newDrift.length} new drift, ${d.fixedDrift.length} fixed; ${d.statusChanges.length} clusters changed status`,
  );
  const section = (title: string, _color: number, rows: string[]) => {
    if (!rows.length) return;
    out.push('', paint(BOLD, title), ...rows.slice(0, limit).map((r) => `  ${r}`), ...more(rows.length));
  };
  section('New findings', RED, d.newFindings.map((f) => `${paint(RED, '+')} ${f.cluster}  ${f.policy} [${f.severity}/${f.action}] ${f.resource}: ${f.message}  ${paint(DIM, f.fingerprint)}`));
  section('Resolved findings', GREEN, d.resolvedFindings.map((f) => `${paint(GREEN, '-')} ${f.cluster}  ${f.policy} [${f.severity}] ${f.resource}  ${paint(DIM, f.fingerprint)}`));
  section(
    'New drift',
    YELLOW,
    d.newDrift.map((x) => `${paint(YELLOW, '+')} ${x.cluster}  ${x.state} ${x.resource}${x.diffs.length ? `: ${x.diffs.map((y) => `${y.path} desired ${JSON.stringify(y.desired)}, live ${JSON.stringify(y.live)}`).join('; ')}` : ''}`),
  );
  section('Fixed drift', GREEN, d.fixedDrift.map((x) => `${paint(GREEN, '-')} ${x.cluster}  ${x.state} ${x.resource}`));
  section('Clusters that changed status', RED, d.statusChanges.map((s) => `${s.cluster}  ${s.from ?? '(absent)'} → ${s.to ?? '(absent)'}: ${s.reason}`));
  const moves = d.scoreChanges.slice(0, 5);
  if (moves.length) out.push('', paint(BOLD, 'Largest score drops'), ...moves.map((s) => `  ${s.cluster}  ${num(s.from)} → ${num(s.to)}`));
  out.push('');
  return out.join('\n');
}

export function prettyConvergence(c: Convergence, paint: Paint): string {
  const out: string[] = [];
  out.push(paint(BOLD, `Commit ${c.commit.sha.slice(0, 10)} "${c.commit.subject}" (${c.commit.time})`));
  if (!c.run) out.push(paint(YELLOW, '  No run has scanned this commit yet.'));
  else out.push(`  judged on ${c.runs} run${c.runs === 1 ? '' : 's'} since the commit; latest ${c.run.run} (${c.run.time}, commit ${short(c.run.commit)})`);
  const verdict = c.converged ? paint(GREEN, 'converged') : c.overdue ? paint(RED, 'NOT converged, past the grace period') : paint(YELLOW, 'converging (within the grace period)');
  out.push(`  ${verdict}`);
  for (const o of c.objects) {
    const mark = o.differing.length ? paint(RED, '✗') : paint(GREEN, '✓');
    out.push('', `${mark} ${paint(BOLD, o.resource)}  in sync on ${o.inSync}/${o.clusters} clusters  ${paint(DIM, `${o.file} (layer ${o.layer})`)}`);
    for (const s of o.differing.slice(0, 20)) out.push(`    ${s.cluster}  ${s.state}: ${s.reason ?? ''}${s.since ? paint(DIM, `  since ${s.since}`) : ''}`);
    if (o.differing.length > 20) out.push(paint(DIM, `    … ${o.differing.length - 20} more`));
    const synced = o.synced.slice(0, 10).map((s) => `${s.cluster} (since ${s.since})`).join(', ');
    if (o.synced.length) out.push(paint(DIM, `    in sync: ${synced}${o.synced.length > 10 ? `, … ${o.synced.length - 10} more` : ''}`));
  }
  for (const r of c.removed) out.push('', `${paint(DIM, '-')} ${r.resource} removed from ${r.file}`);
  if (c.ignoredFiles.length) out.push('', paint(DIM, `Not in any layer (not judged): ${c.ignoredFiles.join(', ')}`));
  for (const w of c.warnings ?? []) out.push('', paint(YELLOW, `Not judged: ${w}`));
  out.push('');
  return out.join('\n');
}

export function prettyFinding(f: FindingTimeline, paint: Paint): string {
  const x = f.finding;
  const out = [
    paint(BOLD, `${x.fingerprint}  ${x.policy} [${x.severity}] on ${x.cluster}: ${x.resource}`),
    `  ${x.message}  ${paint(DIM, x.path)}`,
    `  ${f.open ? paint(RED, 'open') : paint(GREEN, 'resolved')}; first seen ${f.firstSeen ?? '—'}, last seen ${f.lastSeen ?? '—'}`,
    '',
  ];
  let prev = '';
  for (const t of f.timeline) {
    const s = t.state + (t.action ? ` (${t.action})` : '');
    if (s !== prev) out.push(`  ${t.time}  ${t.run}  ${t.state === 'present' ? paint(RED, s) : t.state === 'absent' ? paint(GREEN, s) : paint(DIM, s)}`);
    prev = s;
  }
  out.push('');
  return out.join('\n');
}

export function prettyCluster(c: ClusterTimeline, paint: Paint): string {
  const out = [paint(BOLD, c.cluster) + paint(DIM, `  ${Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(', ')}`)];
  out.push(`  score ${sparkline(c.timeline.map((t) => t.score))}  objects ${sparkline(c.timeline.map((t) => t.objectScore))}`, '');
  for (const t of c.timeline) {
    const what = t.status === 'ok' ? `score ${num(t.score)}  objects ${num(t.objectScore)}  ${t.findings} findings (+${t.newFindings} −${t.resolvedFindings})  ${t.drift} drifted` : paint(RED, `${t.status}: ${t.error ?? ''}`);
    out.push(`  ${t.time}  ${t.run}  commit ${short(t.commit)}  ${what}`);
  }
  out.push('');
  return out.join('\n');
}
