import { definePolicy } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';
import { isObject } from '../isolation/namespaces.js';

const se = (hosts: string[], endpoints: Record<string, unknown>[], apiVersion = 'networking.istio.io/v1beta1'): KubeObject => ({
  apiVersion,
  kind: 'ServiceEntry',
  metadata: { name: 'remote-payment-service', namespace: 'shop' },
  spec: { hosts, location: 'MESH_EXTERNAL', resolution: 'DNS', ports: [{ number: 50051, name: 'grpc', protocol: 'GRPC' }], endpoints },
});
const GLOBAL = 'payment-service.vertex-internal.svc.cluster.global';

export default definePolicy({
  id: 'mesh.service-entry-locality',
  title: 'Multi-cluster ServiceEntries give every endpoint a locality',
  description:
    'A ServiceEntry for a `*.global` host federates a service across clusters; without a `locality` ' +
    '(`region/zone/subzone`, e.g. `eu-central-1/fra01`) on each endpoint, locality-aware load balancing cannot prefer ' +
    'the local region and traffic may cross regions (and borders) at random. Set `locality` on every endpoint.',
  area: 'mesh',
  severity: 'medium',
  action: 'warn',
  match: { kinds: ['networking.istio.io/ServiceEntry'] },
  validate({ object, report }) {
    const spec = isObject(object.spec) ? object.spec : {};
    const hosts = Array.isArray(spec.hosts) ? spec.hosts.filter((h): h is string => typeof h === 'string') : [];
    const global = hosts.find((h) => h.toLowerCase().endsWith('.global'));
    if (!global) return;
    const endpoints = Array.isArray(spec.endpoints) ? spec.endpoints : [];
    endpoints.forEach((ep: unknown, i) => {
      if (!isObject(ep)) return;
      if (typeof ep.locality === 'string' && ep.locality.trim() !== '') return;
      report(
        `endpoint "${typeof ep.address === 'string' ? ep.address : `#${i}`}" of multi-cluster host "${global}" has no locality: set spec.endpoints[${i}].locality (region/zone, e.g. eu-central-1/fra01)`,
        ['spec', 'endpoints', i],
      );
    });
  },
  examples: {
    pass: [
      se([GLOBAL], [{ address: 'payment-service.fra01.vertex-internal', ports: { grpc: 50051 }, locality: 'eu-central-1/fra01', labels: { cluster: 'fra01' } }]),
      se(['api.stripe.com'], [{ address: 'api.stripe.com' }]),
      se([GLOBAL], [], 'networking.istio.io/v1'),
    ],
    fail: [
      se([GLOBAL], [{ address: 'payment-service.fra01.vertex-internal', ports: { grpc: 50051 } }]),
      se([GLOBAL], [{ address: 'a', locality: 'eu-central-1/fra01' }, { address: 'b', locality: '' }], 'networking.istio.io/v1alpha3'),
      se(['reviews.shop.global', 'reviews.example.com'], [{ address: '10.0.0.7' }], 'networking.istio.io/v1'),
    ],
  },
});
