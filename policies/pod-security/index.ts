import type { Policy } from '../../src/index.js';
import { baselinePolicies } from './baseline.js';
import { restrictedPolicies } from './restricted.js';

/**
 * The pod-security pack: the Kubernetes Pod Security Standards (policy version v1.37), one policy per upstream
 * check, `pss.baseline.*` then `pss.restricted.*`. The restricted level is every baseline check plus the
 * restricted ones. Each finding's action follows the namespace's `pod-security.kubernetes.io/*` labels (see level.ts).
 */
export const policies: Policy[] = [...baselinePolicies, ...restrictedPolicies];

export { baselinePolicies, restrictedPolicies };
export { actionFor, modesFor, PSS_DEFAULTS, PSS_PARAMS, LABEL_PREFIX } from './level.js';
export type { Level, Modes, PssParams } from './level.js';
