import type { KubeObject } from '../../src/index.js';

/** Small pods for the policies' own examples (the project's own, not upstream's fixtures). */

type Obj = Record<string, unknown>;

/** A pod with one container `web` (and optionally more fields on it and on the pod spec). */
export function pod(spec: Obj = {}, container: Obj = {}, metadata: Obj = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'shop', ...metadata },
    spec: { containers: [{ name: 'web', image: 'registry.example/web:1.4', ...container }], ...spec },
  };
}

/** The securityContext of a container that satisfies every restricted container check. */
export const RESTRICTED_CONTAINER_SC = Object.freeze({
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
});

/** A pod that passes the restricted level; `sc` is merged into the container's securityContext. */
export function restrictedPod(spec: Obj = {}, sc: Obj = {}, podSc: Obj = {}): KubeObject {
  return pod(
    { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, ...podSc }, ...spec },
    { securityContext: { ...RESTRICTED_CONTAINER_SC, ...sc } },
  );
}

/** The same pod spec as a Deployment's template (autogen). */
export function deployment(p: KubeObject): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: p.metadata?.name, namespace: p.metadata?.namespace },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' }, annotations: p.metadata?.annotations }, spec: p.spec },
    },
  };
}
