import type { LabelSelector } from '../model/index.js';

/** Kubernetes label selector semantics (matchLabels AND matchExpressions). An empty selector matches everything. */
export function matchesSelector(labels: Record<string, string> | undefined, selector: LabelSelector): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(l[e.key])) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(l[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/**
 * The `when:` form used by fleet.yaml and cluster matching: every key must be present with one of the values
 * (a string or a list of accepted strings).
 */
export type LabelConditions = Record<string, string | readonly string[]>;

export function matchesConditions(labels: Record<string, string> | undefined, when: LabelConditions | undefined): boolean {
  if (!when) return true;
  const l = labels ?? {};
  for (const [k, want] of Object.entries(when)) {
    const have = l[k];
    if (have === undefined) return false;
    if (typeof want === 'string' ? have !== want : !want.includes(have)) return false;
  }
  return true;
}
