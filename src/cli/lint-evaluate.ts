import type { Policy } from '../authoring/index.js';
import { dedupeFindings, inventoryContext, isExceptionObject, type Evaluator } from '../engine/index.js';
import { refOf, type Finding, type Resource } from '../model/index.js';
import { FindingStore } from '../report/index.js';

/** Objects judged per evaluation call, at least: whole files are never split. */
const PART = 1_000;

export interface LintEvaluation {
  /** Deduplicated (`dedupeFindings`), in the order one evaluation of the whole inventory gives; not sorted. */
  findings: FindingStore;
  objects: number;
  waived: number;
  exempt: number;
}

/**
 * Judges a lint inventory part by part, so that only one part's findings exist as the engine makes them: each
 * part (whole files, about PART objects) with the object and namespace scopes and the whole inventory's waivers
 * and namespace labels (`inventoryContext`), then the cluster scope once over the whole. Each part's findings are
 * deduplicated and kept as compact rows (FindingStore) as it finishes: 213,000 findings of 50,000 objects were
 * ~140 MB as objects (~17,500 distinct messages, 23 paths, one string each per finding), ~10 MB as rows.
 *
 * The findings are those of one evaluation of the whole (same texts, same order before sorting). Where dedupe
 * could merge findings of different parts (the same object in two files, or a cluster-scope policy related to
 * another by `sameFindingAs`), the inventory is judged as one part.
 */
export async function evaluateLint(evaluator: Evaluator, resources: readonly Resource[], policies: readonly Policy[], before: readonly Finding[] = []): Promise<LintEvaluation> {
  const now = new Date();
  const parts = partsOf(resources, policies);
  const context = parts.length > 1 ? inventoryContext(resources, { now }) : {};
  const out: LintEvaluation = { findings: new FindingStore(), objects: 0, waived: 0, exempt: 0 };
  const add = (findings: readonly Finding[]) => {
    for (const f of dedupeFindings(findings, policies)) out.findings.add(f);
  };
  if (parts.length <= 1) {
    const whole = await evaluator.evaluate(resources, { now });
    add([...before, ...whole.findings]);
    return { findings: out.findings, objects: whole.objects, waived: whole.waived, exempt: whole.exempt ?? 0 };
  }
  add(before);
  for (const part of parts) {
    const e = await evaluator.evaluate(part, { ...context, now, scopes: ['object', 'namespace'] });
    add(e.findings);
    out.objects += e.objects;
    out.waived += e.waived;
    out.exempt += e.exempt ?? 0;
  }
  // The whole inventory, exceptions included: cluster-scope findings, and the invalid or expired waivers.
  const cluster = await evaluator.evaluate(resources, { now, scopes: ['cluster'] });
  add(cluster.findings);
  out.waived += cluster.waived;
  return out;
}

/** Consecutive runs of whole files of about PART judged objects (no PolicyException objects); one part when dedupe needs the whole. */
function partsOf(resources: readonly Resource[], policies: readonly Policy[]): Resource[][] {
  const judged = resources.filter((r) => !isExceptionObject(r.object));
  if (judged.length <= PART || clusterPolicyDedupes(policies)) return [judged];
  let part: Resource[] = [];
  const parts = [part];
  const partOf = new Map<string, number>();
  for (let i = 0; i < judged.length; i++) {
    const r = judged[i];
    if (part.length >= PART && r.file !== judged[i - 1].file) parts.push((part = []));
    const ref = refOf(r.object); // dedupe's key
    const key = `${ref.apiVersion}\u0000${ref.kind}\u0000${ref.namespace ?? ''}\u0000${ref.name}`;
    const seen = partOf.get(key);
    if (seen !== undefined && seen !== parts.length - 1) return [judged]; // the same object in two parts
    partOf.set(key, parts.length - 1);
    part.push(r);
  }
  return parts;
}

/** Whether a cluster-scope policy takes part in `sameFindingAs` (its findings would merge with object findings). */
function clusterPolicyDedupes(policies: readonly Policy[]): boolean {
  const related = new Set<string>();
  for (const p of policies) if (p.sameFindingAs?.length) for (const id of [p.id, ...p.sameFindingAs]) related.add(id);
  return policies.some((p) => p.scope === 'cluster' && related.has(p.id));
}
