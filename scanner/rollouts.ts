import { clusterActions, isRolloutObject, nextStep, parseRollout, stagePlans, type PolicyRollout } from '../src/engine/index.js';
import { identityOf, type Action } from '../src/model/index.js';
import { BOLD, DIM, type Paint } from '../src/report/index.js';
import type { DesiredState } from './desired.js';
import type { Fleet } from './fleet.js';

/**
 * Each PolicyRollout's progress across the fleet, for the scan report: where it stands and how many clusters each
 * action now has. The gate (`fleetgate rollout status`) is not evaluated here: a scan reports, it does not decide.
 */
export interface RolloutProgress {
  name: string;
  policies: string[];
  stage: number;
  batch?: number;
  since?: string;
  paused: boolean;
  stages: { index: number; cohorts: string[]; action: Action; clusters: number; state: string; batches: number; batchesReached?: number }[];
  /** Clusters per current action. */
  actions: Partial<Record<Action, number>>;
  /** The next step, or null once the last stage is reached. */
  next: { stage: number; batch?: number; clusters: number } | null;
}

export function rolloutProgress(fleet: Fleet, desired: DesiredState): RolloutProgress[] {
  const rollouts = new Map<string, PolicyRollout>();
  for (const layer of desired.layers)
    for (const o of layer.objects) {
      if (!isRolloutObject(o)) continue;
      const r = parseRollout(o);
      if (typeof r !== 'string') rollouts.set(identityOf(o), r); // a later layer's declaration wins, as in the merge
    }
  const out: RolloutProgress[] = [];
  for (const [id, r] of rollouts) {
    const members = fleet.clusters.filter((c) => desired.for(c).has(id));
    const actions: Partial<Record<Action, number>> = {};
    for (const c of clusterActions(r, members)) actions[c.action] = (actions[c.action] ?? 0) + 1;
    const step = nextStep(r, members);
    out.push({
      name: r.name,
      policies: r.policies,
      stage: r.stage,
      ...(r.batch !== undefined ? { batch: r.batch } : {}),
      ...(r.since ? { since: r.since.toISOString() } : {}),
      paused: r.paused,
      stages: stagePlans(r, members).map((s) => ({
        index: s.index,
        cohorts: s.cohorts,
        action: s.action,
        clusters: s.clusters.length,
        state: s.state,
        batches: s.batches,
        ...(s.batchesReached !== undefined ? { batchesReached: s.batchesReached } : {}),
      })),
      actions,
      next: step ? { stage: step.stage, ...(step.batch !== undefined ? { batch: step.batch } : {}), clusters: step.clusters.length } : null,
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

function where(r: RolloutProgress): string {
  const at = r.stage < 0 ? 'not started' : `stage ${r.stage + 1}/${r.stages.length}${r.batch !== undefined ? ` batch ${r.batch}` : ''}`;
  return `${at}${r.paused ? ', paused' : ''}`;
}

function counts(r: RolloutProgress): string {
  return (['deny', 'warn', 'audit'] as const).filter((a) => r.actions[a]).map((a) => `${r.actions[a]} ${a}`).join(', ');
}

export function rolloutsPretty(rollouts: readonly RolloutProgress[] | undefined, paint: Paint): string[] {
  if (!rollouts?.length) return [];
  const out = ['', paint(BOLD, 'Policy rollouts')];
  for (const r of rollouts) out.push(`  ${r.name}  ${paint(DIM, r.policies.join(', '))}  ${where(r)}: ${counts(r)}`);
  return out;
}

export function rolloutsHtml(rollouts: readonly RolloutProgress[] | undefined, esc: (s: unknown) => string): string {
  if (!rollouts?.length) return '';
  const colors: Record<Action, string> = { deny: '#c62828', warn: '#ef6c00', audit: '#9e9e9e' };
  const rows = rollouts.map((r) => {
    const total = Object.values(r.actions).reduce((n, v) => n + (v ?? 0), 0) || 1;
    const bar = (['deny', 'warn', 'audit'] as const)
      .filter((a) => r.actions[a])
      .map((a) => `<span style="display:inline-block;width:${(200 * r.actions[a]!) / total}px;background:${colors[a]};color:#fff;font-size:11px;overflow:hidden" title="${r.actions[a]} ${a}">${r.actions[a]}&nbsp;${a}</span>`)
      .join('');
    return `<tr><td>${esc(r.name)}</td><td><code>${esc(r.policies.join(', '))}</code></td><td>${esc(where(r))}</td><td>${bar}</td></tr>`;
  });
  return `<h2>Policy rollouts</h2><table class="rollouts"><tr><th>rollout</th><th>policies</th><th>stage</th><th>clusters by action</th></tr>${rows.join('')}</table>`;
}
