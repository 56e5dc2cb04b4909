import type { Policy } from '../../src/index.js';
import containerResources from './container-resources.js';
import namespaceHasLimitrange from './namespace-has-limitrange.js';
import namespaceHasResourcequota from './namespace-has-resourcequota.js';
import withinClusterMaximum from './within-cluster-maximum.js';

/** The quota pack: every tenant is bounded, and bounds fit the cluster. */
export const policies: Policy[] = [namespaceHasResourcequota, namespaceHasLimitrange, containerResources, withinClusterMaximum];
