import { definePolicy, matchesGlob } from '../../src/index.js';
import type { KubeObject, PathSegments } from '../../src/index.js';
import { isObject } from '../isolation/namespaces.js';

/**
 * Whether a DestinationRule host is in the mesh: a short name (no dot, expanded by Istio to the rule's namespace),
 * a name ending in one of the mesh suffixes, or a wildcard that covers one (`*`, `*.local`, `*.cluster.local`).
 */
export function isMeshHost(host: string, suffixes: readonly string[]): boolean {
  const h = host.trim().toLowerCase();
  if (!h) return false;
  if (!h.includes('.')) return true; // short name; also "*"
  const sfx = suffixes.map((s) => (s.startsWith('.') ? s : `.${s}`).toLowerCase());
  if (sfx.some((s) => h.endsWith(s))) return true;
  if (h.startsWith('*')) {
    const rest = h.slice(1); // ".cluster.local"
    return sfx.some((s) => s.endsWith(rest));
  }
  return false;
}

/** Whether a host is one of the control-plane hosts (globs); a short name is expanded in the rule's namespace. */
function isControlPlaneHost(host: string, namespace: unknown, hosts: unknown): boolean {
  const h = host.trim().toLowerCase();
  const fqdn = h.includes('.') ? h : `${h}.${typeof namespace === 'string' ? namespace : 'default'}.svc.cluster.local`;
  return Array.isArray(hosts) && hosts.some((g) => typeof g === 'string' && matchesGlob(fqdn, g.toLowerCase()));
}

const dr = (host: string, spec: Record<string, unknown>, apiVersion = 'networking.istio.io/v1beta1'): KubeObject => ({
  apiVersion,
  kind: 'DestinationRule',
  metadata: { name: 'reviews', namespace: 'shop' },
  spec: { host, ...spec },
});
const mutual = { tls: { mode: 'ISTIO_MUTUAL' } };

export default definePolicy({
  id: 'mesh.destination-rule-mutual-tls',
  title: 'DestinationRules for in-mesh hosts keep ISTIO_MUTUAL TLS',
  description:
    'A DestinationRule for an in-mesh host (a short name, `*.svc.cluster.local`, `*.global`, or a wildcard covering them; ' +
    'suffixes are the `meshHostSuffixes` parameter) sets no client TLS mode other than `ISTIO_MUTUAL`, in its ' +
    '`trafficPolicy`, its `portLevelSettings` or any subset\'s traffic policy. DISABLE sends plaintext, SIMPLE and MUTUAL ' +
    'replace the mesh identity with hand-managed certificates; a `tls` block without a mode means DISABLE. Remove the ' +
    '`tls` block (auto mTLS) or set `mode: ISTIO_MUTUAL`. Hosts outside the mesh are not judged. SIMPLE TLS to a ' +
    'control-plane host (`controlPlaneHosts`, globs; default istiod in istio-system, revisions included) is allowed: ' +
    "Istio's multicluster setup reaches a remote istiod through the east-west gateway that way, on purpose.",
  area: 'mesh',
  severity: 'high',
  action: 'deny',
  match: { kinds: ['networking.istio.io/DestinationRule'] },
  params: {
    meshHostSuffixes: ['.svc.cluster.local', '.global'] as string[],
    controlPlaneHosts: ['istiod.istio-system.svc.cluster.local', 'istiod-*.istio-system.svc.cluster.local'] as string[],
  },
  validate({ object, params, report }) {
    const spec = isObject(object.spec) ? object.spec : {};
    const host = typeof spec.host === 'string' ? spec.host : '';
    const suffixes = Array.isArray(params.meshHostSuffixes) ? params.meshHostSuffixes.map(String) : [];
    if (!isMeshHost(host, suffixes)) return;
    const controlPlane = isControlPlaneHost(host, object.metadata?.namespace, params.controlPlaneHosts);
    const check = (policy: unknown, at: PathSegments, where: string) => {
      if (!isObject(policy)) return;
      const one = (tls: unknown, p: PathSegments, w: string) => {
        if (!isObject(tls)) return;
        const mode = tls.mode;
        if (mode === 'ISTIO_MUTUAL') return;
        if (mode === 'SIMPLE' && controlPlane) return; // TLS origination to istiod (multicluster), by design
        if (typeof mode === 'string')
          report(`${w} sets tls.mode ${mode} for in-mesh host "${host}": set ISTIO_MUTUAL or remove the tls block to use mesh mTLS`, [...p, 'tls', 'mode']);
        else report(`${w} has a tls block without a mode (which means DISABLE) for in-mesh host "${host}": set mode: ISTIO_MUTUAL`, [...p, 'tls']);
      };
      one(policy.tls, at, where);
      if (Array.isArray(policy.portLevelSettings))
        policy.portLevelSettings.forEach((pls: unknown, i) => {
          if (!isObject(pls)) return;
          const port = isObject(pls.port) && pls.port.number !== undefined ? ` port ${String(pls.port.number)}` : '';
          one(pls.tls, [...at, 'portLevelSettings', i], `${where} portLevelSettings[${i}]${port}`);
        });
    };
    check(spec.trafficPolicy, ['spec', 'trafficPolicy'], 'trafficPolicy');
    if (Array.isArray(spec.subsets))
      spec.subsets.forEach((s: unknown, i) => {
        if (!isObject(s)) return;
        check(s.trafficPolicy, ['spec', 'subsets', i, 'trafficPolicy'], `subset "${typeof s.name === 'string' ? s.name : i}" trafficPolicy`);
      });
  },
  examples: {
    pass: [
      dr('reviews', { trafficPolicy: mutual }),
      dr('reviews.shop.svc.cluster.local', { trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } }),
      dr('payment-service.vertex-internal.svc.cluster.global', { trafficPolicy: mutual, subsets: [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: mutual }] }, 'networking.istio.io/v1'),
      { name: 'external host may use SIMPLE TLS', objects: [dr('api.stripe.com', { trafficPolicy: { tls: { mode: 'SIMPLE' } } })] },
      {
        name: "Istio's multicluster sample: SIMPLE TLS to istiod through the east-west gateway",
        objects: [dr('istiod.istio-system.svc.cluster.local', { trafficPolicy: { portLevelSettings: [{ port: { number: 15012 }, tls: { mode: 'SIMPLE' } }] } })],
      },
      dr('*.svc.cluster.local', { trafficPolicy: { portLevelSettings: [{ port: { number: 8443 }, tls: { mode: 'ISTIO_MUTUAL' } }] } }, 'networking.istio.io/v1alpha3'),
    ],
    fail: [
      dr('reviews', { trafficPolicy: { tls: { mode: 'DISABLE' } } }),
      dr('reviews.shop.svc.cluster.local', { trafficPolicy: { tls: { mode: 'SIMPLE', sni: 'reviews' } } }, 'networking.istio.io/v1alpha3'),
      dr('reviews', { trafficPolicy: mutual, subsets: [{ name: 'v2', labels: { version: 'v2' }, trafficPolicy: { tls: { mode: 'DISABLE' } } }] }, 'networking.istio.io/v1'),
      dr('ratings.shop.svc.cluster.local', { trafficPolicy: { portLevelSettings: [{ port: { number: 9080 }, tls: { mode: 'MUTUAL', clientCertificate: '/etc/c.pem' } }] } }),
      dr('payment.global', { trafficPolicy: { tls: { sni: 'payment.global' } } }),
      { name: 'DISABLE to istiod is still plaintext', objects: [dr('istiod.istio-system.svc.cluster.local', { trafficPolicy: { tls: { mode: 'DISABLE' } } })] },
      { name: 'a wildcard covering the mesh', objects: [dr('*.cluster.local', { trafficPolicy: { tls: { mode: 'DISABLE' } } })] },
    ],
  },
});
