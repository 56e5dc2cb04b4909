import type { Policy } from '../authoring/index.js';
import { ACTIONS, SEVERITY_RANK, type Finding } from '../model/index.js';

/**
 * One finding per offending field in reports (lint, scan). Two built-in packs may judge the same field for the same
 * reason — `isolation.no-host-namespaces` and `pss.baseline.host-namespaces` both flag `hostNetwork: true` — and a
 * reader then sees the same problem twice. A policy says so explicitly with `sameFindingAs: [ids]`; only findings of
 * such related policies, on the same resource and the same path, are merged (an image that breaks both
 * practices.image-tag and practices.allowed-registries stays two findings: two different problems).
 *
 * The finding kept is the one with the strongest action (deny > warn > audit), then the highest severity, then the
 * earliest in the list; its message names the other policies, and `also` lists their ids (for tools). Merging runs after exceptions, so waiving one of the
 * policies never hides the field: the other's finding is still there. The admission webhook does not merge (its
 * answer names every failing policy id, as DESIGN requires).
 */
export function dedupeFindings(findings: readonly Finding[], policies: readonly Policy[]): Finding[] {
  const group = relatedGroups(policies);
  if (!group.size) return [...findings];
  const kept = new Map<string, { index: number; finding: Finding; others: string[] }>();
  const out: (Finding | undefined)[] = [];
  for (const f of findings) {
    const g = group.get(f.policy);
    if (g === undefined || f.error || f.path === '$') {
      out.push(f);
      continue;
    }
    const r = f.resource;
    const key = `${g}\u0000${r.apiVersion}\u0000${r.kind}\u0000${r.namespace ?? ''}\u0000${r.name}\u0000${f.path}`;
    const prev = kept.get(key);
    if (!prev) {
      kept.set(key, { index: out.push(f) - 1, finding: f, others: [] });
      continue;
    }
    if (stronger(f, prev.finding)) {
      prev.others.push(prev.finding.policy);
      prev.finding = f;
    } else prev.others.push(f.policy);
  }
  for (const k of kept.values()) {
    const others = [...new Set(k.others)].filter((p) => p !== k.finding.policy);
    out[k.index] = others.length ? { ...k.finding, message: `${k.finding.message} (also ${others.join(', ')})`, also: others } : k.finding;
  }
  return out.filter((f): f is Finding => f !== undefined);
}

function stronger(a: Finding, b: Finding): boolean {
  const byAction = ACTIONS.indexOf(b.action) - ACTIONS.indexOf(a.action);
  if (byAction) return byAction > 0;
  return SEVERITY_RANK[a.severity] > SEVERITY_RANK[b.severity];
}

/** Policy id → a group number shared by every policy linked through `sameFindingAs` (in either direction). */
function relatedGroups(policies: readonly Policy[]): Map<string, number> {
  const group = new Map<string, number>();
  let next = 0;
  for (const p of policies) {
    if (!p.sameFindingAs?.length) continue;
    const ids = [p.id, ...p.sameFindingAs];
    const existing = ids.map((id) => group.get(id)).find((g) => g !== undefined);
    const g = existing ?? next++;
    for (const id of ids) {
      const old = group.get(id);
      if (old !== undefined && old !== g) for (const [k, v] of group) if (v === old) group.set(k, g);
      group.set(id, g);
    }
  }
  return group;
}
