import type { Policy } from '../../src/index.js';
import deprecatedApi from './deprecated-api.js';
import removedApi from './removed-api.js';

/** The upgrade-readiness pack: API versions removed or deprecated at each cluster's target Kubernetes release. */
export const policies: Policy[] = [removedApi, deprecatedApi];

export { REMOVALS, removalOf } from './api-table.js';
