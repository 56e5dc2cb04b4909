/**
 * The Kubernetes deprecation schedule, from the official Deprecated API Migration Guide
 * (kubernetes.io/docs/reference/using-api/deprecation-guide, "Removed APIs by release"). One row per API version
 * the guide lists: the release that stopped serving it, what to migrate to, and the release since which that
 * replacement is available. The guide lists removals in 1.16, 1.22, 1.25, 1.26, 1.27, 1.29 and 1.32; no release from
 * 1.33 through 1.36 removed a built-in API version, so a target of 1.36 is judged by these rows too.
 * When a new release removes an API, add its row here (and an example in the upgrade pack).
 */

export interface ApiRemoval {
  /** Kinds served by these API versions. */
  kinds: readonly string[];
  /** The group/version no longer served. */
  apiVersion: string;
  /** First release that no longer serves it. */
  removedIn: string;
  /** What to use instead; `undefined` when nothing replaces it (PodSecurityPolicy). */
  replacement?: string;
  /** Release since which the replacement is served (migrating is possible from then on). */
  availableSince?: string;
  /** What changes besides the apiVersion, or what to do when there is no replacement. */
  note?: string;
}

const FLOW = ['FlowSchema', 'PriorityLevelConfiguration'];
const RBAC = ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
const ACCESS_REVIEWS = ['SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectAccessReview', 'SelfSubjectRulesReview'];
const WEBHOOKS = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

export const REMOVALS: readonly ApiRemoval[] = [
  // v1.32
  { kinds: FLOW, apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3', removedIn: '1.32', replacement: 'flowcontrol.apiserver.k8s.io/v1', availableSince: '1.29', note: 'an explicit nominalConcurrencyShares of 0 is no longer changed to 30' },
  // v1.29
  { kinds: FLOW, apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta2', removedIn: '1.29', replacement: 'flowcontrol.apiserver.k8s.io/v1 (or v1beta3, available since 1.26)', availableSince: '1.26', note: 'assuredConcurrencyShares is renamed nominalConcurrencyShares' },
  // v1.27
  { kinds: ['CSIStorageCapacity'], apiVersion: 'storage.k8s.io/v1beta1', removedIn: '1.27', replacement: 'storage.k8s.io/v1', availableSince: '1.24' },
  // v1.26
  { kinds: FLOW, apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta1', removedIn: '1.26', replacement: 'flowcontrol.apiserver.k8s.io/v1beta3', availableSince: '1.26' },
  { kinds: ['HorizontalPodAutoscaler'], apiVersion: 'autoscaling/v2beta2', removedIn: '1.26', replacement: 'autoscaling/v2', availableSince: '1.23', note: 'targetAverageUtilization becomes target.averageUtilization with target.type: Utilization' },
  // v1.25
  { kinds: ['CronJob'], apiVersion: 'batch/v1beta1', removedIn: '1.25', replacement: 'batch/v1', availableSince: '1.21' },
  { kinds: ['EndpointSlice'], apiVersion: 'discovery.k8s.io/v1beta1', removedIn: '1.25', replacement: 'discovery.k8s.io/v1', availableSince: '1.21', note: 'per-endpoint nodeName and zone replace topology' },
  { kinds: ['Event'], apiVersion: 'events.k8s.io/v1beta1', removedIn: '1.25', replacement: 'events.k8s.io/v1', availableSince: '1.19' },
  { kinds: ['HorizontalPodAutoscaler'], apiVersion: 'autoscaling/v2beta1', removedIn: '1.25', replacement: 'autoscaling/v2', availableSince: '1.23', note: 'targetAverageUtilization becomes target.averageUtilization with target.type: Utilization' },
  { kinds: ['PodDisruptionBudget'], apiVersion: 'policy/v1beta1', removedIn: '1.25', replacement: 'policy/v1', availableSince: '1.21', note: 'an empty spec.selector now selects every pod of the namespace' },
  { kinds: ['PodSecurityPolicy'], apiVersion: 'policy/v1beta1', removedIn: '1.25', note: 'PodSecurityPolicy is gone: use Pod Security Admission (pod-security.kubernetes.io labels) or a policy engine' },
  { kinds: ['RuntimeClass'], apiVersion: 'node.k8s.io/v1beta1', removedIn: '1.25', replacement: 'node.k8s.io/v1', availableSince: '1.20', note: 'handler moves from spec.runtimeHandler to handler' },
  // v1.22
  { kinds: WEBHOOKS, apiVersion: 'admissionregistration.k8s.io/v1beta1', removedIn: '1.22', replacement: 'admissionregistration.k8s.io/v1', availableSince: '1.16', note: 'failurePolicy defaults to Fail, sideEffects and admissionReviewVersions are required' },
  { kinds: ['CustomResourceDefinition'], apiVersion: 'apiextensions.k8s.io/v1beta1', removedIn: '1.22', replacement: 'apiextensions.k8s.io/v1', availableSince: '1.16', note: 'a structural schema per version is required' },
  { kinds: ['APIService'], apiVersion: 'apiregistration.k8s.io/v1beta1', removedIn: '1.22', replacement: 'apiregistration.k8s.io/v1', availableSince: '1.10' },
  { kinds: ['TokenReview'], apiVersion: 'authentication.k8s.io/v1beta1', removedIn: '1.22', replacement: 'authentication.k8s.io/v1', availableSince: '1.6' },
  { kinds: ACCESS_REVIEWS, apiVersion: 'authorization.k8s.io/v1beta1', removedIn: '1.22', replacement: 'authorization.k8s.io/v1', availableSince: '1.6', note: 'spec.group is renamed spec.groups' },
  { kinds: ['CertificateSigningRequest'], apiVersion: 'certificates.k8s.io/v1beta1', removedIn: '1.22', replacement: 'certificates.k8s.io/v1', availableSince: '1.19', note: 'spec.signerName is required' },
  { kinds: ['Lease'], apiVersion: 'coordination.k8s.io/v1beta1', removedIn: '1.22', replacement: 'coordination.k8s.io/v1', availableSince: '1.14' },
  { kinds: ['Ingress'], apiVersion: 'extensions/v1beta1', removedIn: '1.22', replacement: 'networking.k8s.io/v1', availableSince: '1.19', note: 'backend.serviceName/servicePort become backend.service.name/port, pathType is required' },
  { kinds: ['Ingress', 'IngressClass'], apiVersion: 'networking.k8s.io/v1beta1', removedIn: '1.22', replacement: 'networking.k8s.io/v1', availableSince: '1.19', note: 'backend.serviceName/servicePort become backend.service.name/port, pathType is required' },
  { kinds: RBAC, apiVersion: 'rbac.authorization.k8s.io/v1beta1', removedIn: '1.22', replacement: 'rbac.authorization.k8s.io/v1', availableSince: '1.8' },
  { kinds: ['PriorityClass'], apiVersion: 'scheduling.k8s.io/v1beta1', removedIn: '1.22', replacement: 'scheduling.k8s.io/v1', availableSince: '1.14' },
  { kinds: ['CSIDriver', 'CSINode', 'StorageClass', 'VolumeAttachment'], apiVersion: 'storage.k8s.io/v1beta1', removedIn: '1.22', replacement: 'storage.k8s.io/v1', availableSince: '1.19' },
  // v1.16
  { kinds: ['NetworkPolicy'], apiVersion: 'extensions/v1beta1', removedIn: '1.16', replacement: 'networking.k8s.io/v1', availableSince: '1.8' },
  { kinds: ['PodSecurityPolicy'], apiVersion: 'extensions/v1beta1', removedIn: '1.16', replacement: 'policy/v1beta1 (itself removed in 1.25)', availableSince: '1.10' },
  { kinds: ['DaemonSet', 'Deployment', 'ReplicaSet'], apiVersion: 'extensions/v1beta1', removedIn: '1.16', replacement: 'apps/v1', availableSince: '1.9', note: 'spec.selector is required and immutable' },
  { kinds: ['DaemonSet', 'Deployment', 'ReplicaSet', 'StatefulSet'], apiVersion: 'apps/v1beta2', removedIn: '1.16', replacement: 'apps/v1', availableSince: '1.9' },
  { kinds: ['Deployment', 'ReplicaSet', 'StatefulSet'], apiVersion: 'apps/v1beta1', removedIn: '1.16', replacement: 'apps/v1', availableSince: '1.9', note: 'spec.selector is required and immutable' },
];

/** Every kind any row names (what the upgrade policies match). */
export const REMOVAL_KINDS: readonly string[] = [...new Set(REMOVALS.flatMap((r) => r.kinds))];

/** apiVersion → kind → row. Two lookups of strings the object already holds: no key is built per call (the upgrade
 * policies ask for every object the webhook judges, nearly always for an apiVersion with no row at all). */
const byApiVersion = new Map<string, Map<string, ApiRemoval>>();
for (const r of REMOVALS) {
  let kinds = byApiVersion.get(r.apiVersion);
  if (!kinds) byApiVersion.set(r.apiVersion, (kinds = new Map()));
  for (const k of r.kinds) kinds.set(k, r);
}

export function removalOf(apiVersion: string, kind: string): ApiRemoval | undefined {
  return byApiVersion.get(apiVersion)?.get(kind);
}

/** `1.29` → [1, 29]; also accepts `v1.29` and `1.29.3`. */
export function parseMinor(v: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(v.trim().replace(/^v/, ''));
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/**
 * The `targetVersion` parameter as [major, minor]. A YAML number is refused: `1.30` unquoted parses as 1.3.
 * A bad value throws, which the engine reports as this policy's error on the object (never a silent pass).
 */
export function targetOf(v: unknown): [number, number] {
  if (typeof v === 'number') throw new Error(`targetVersion ${v} is a number: quote it ("${v}"), since YAML reads 1.30 as 1.3`);
  const t = typeof v === 'string' ? parseMinor(v) : undefined;
  if (!t) throw new Error(`targetVersion ${JSON.stringify(v)} is not a Kubernetes version like "1.32"`);
  return t;
}

export function compareMinor(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}
