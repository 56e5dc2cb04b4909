/** Objects the benchmarks share. */

/**
 * The `shop/web` Deployment of the webhook and isolation benches: two replicas, non-root, seccomp, resources, no
 * privilege escalation. With `practices`, it is also compliant with the practices pack (no service-account token,
 * probes, a read-only root filesystem), so it draws no audit finding at all (no log line per review).
 */
export function webDeployment(opts: { practices?: boolean } = {}) {
  const practices = !!opts.practices;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          ...(practices ? { automountServiceAccountToken: false } : {}),
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'web',
              image: 'registry.example/web:1.4.2',
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
              ...(practices ? { readinessProbe: { httpGet: { path: '/ready', port: 8080 } }, livenessProbe: { tcpSocket: { port: 8080 } } } : {}),
              securityContext: { allowPrivilegeEscalation: false, ...(practices ? { readOnlyRootFilesystem: true } : {}), capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}

/** The review the webhook benches send: a Deployment compliant with every built-in policy, practices.* included (no
 * audit finding, so no log line per review), and with every bench user policy. */
export function benchReview() {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      namespace: 'shop',
      name: 'web',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:argocd:argocd-application-controller', groups: ['system:serviceaccounts'] },
      object: webDeployment({ practices: true }),
      oldObject: null,
      dryRun: false,
    },
  };
}
