import type { Policy } from '../../src/index.js';
import allowedRegistries from './allowed-registries.js';
import imageTag from './image-tag.js';
import noAutomountServiceAccountToken from './no-automount-service-account-token.js';
import noLoadbalancerServices from './no-loadbalancer-services.js';
import noNodeportServices from './no-nodeport-services.js';
import noServiceExternalIps from './no-service-external-ips.js';
import podDisruptionBudget from './pod-disruption-budget.js';
import readOnlyRootFilesystem from './read-only-root-filesystem.js';
import replicaLimits from './replica-limits.js';
import requiredLabels from './required-labels.js';
import requiredProbes from './required-probes.js';

/** The practices pack: best practices users know from the Gatekeeper library and Kyverno's policies. */
export const policies: Policy[] = [
  imageTag,
  allowedRegistries,
  requiredLabels,
  requiredProbes,
  noNodeportServices,
  noLoadbalancerServices,
  noServiceExternalIps,
  noAutomountServiceAccountToken,
  replicaLimits,
  readOnlyRootFilesystem,
  podDisruptionBudget,
];
