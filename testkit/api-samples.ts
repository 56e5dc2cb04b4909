import type { KubeObject } from '../src/index.js';

/** A small but realistic tenant cluster: namespaces with quota, limits, default-deny, a deployment, pods, Istio config, a Secret. */
// Long: kept whole, it is data (the objects of one tenant namespace), written out as the apiserver would hold them.
export function sampleObjects(opts: { namespaces?: number; podsPerNamespace?: number; secretValue?: string } = {}): KubeObject[] {
  const nsCount = opts.namespaces ?? 3;
  const pods = opts.podsPerNamespace ?? 2;
  const objs: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'istio-system' },
      spec: { mtls: { mode: 'STRICT' } },
    },
  ];
  for (let i = 0; i < nsCount; i++) {
    const ns = `tenant-${String(i).padStart(2, '0')}`;
    objs.push(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'istio-injection': 'enabled', 'fleetgate.io/data-classification': 'internal' } } },
      { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'quota', namespace: ns }, spec: { hard: { 'requests.cpu': '4', 'requests.memory': '8Gi', pods: '20' } } },
      {
        apiVersion: 'v1',
        kind: 'LimitRange',
        metadata: { name: 'limits', namespace: ns },
        spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '512Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } }] },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'default-deny', namespace: ns },
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns, labels: { app: 'web' } },
        spec: {
          replicas: pods,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
        },
      },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'web', namespace: ns },
        spec: { host: `web.${ns}.svc.cluster.local`, trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } },
      },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db', namespace: ns },
        type: 'Opaque',
        data: { password: Buffer.from(opts.secretValue ?? `s3cret-${ns}`).toString('base64') },
      },
    );
    for (let p = 0; p < pods; p++) {
      objs.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `web-${p}`, namespace: ns, labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27', resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } } }] },
      });
    }
  }
  return objs;
}

/** The kinds a fleet scan typically asks for (what sampleObjects holds, Secrets excluded). */
export const SCAN_KINDS: { apiVersion: string; kind: string }[] = [
  { apiVersion: 'v1', kind: 'Namespace' },
  { apiVersion: 'v1', kind: 'Pod' },
  { apiVersion: 'v1', kind: 'ResourceQuota' },
  { apiVersion: 'v1', kind: 'LimitRange' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule' },
  { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication' },
];
