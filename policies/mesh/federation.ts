import type { FleetClusterView, KubeObject } from '../../src/index.js';
import { isObject } from '../isolation/namespaces.js';

/**
 * The fleet's federation conventions (DESIGN, "Fleet-scope rules"), shared by the mesh and gdpr fleet rules:
 * a `*.global` ServiceEntry host names the Service by its first label, in the ServiceEntry's namespace; an endpoint
 * names its cluster by `labels.<clusterLabel>` (default `cluster`), else the last segment of its `locality`
 * (`eu-central-1/fra01` → `fra01`).
 */

export const SERVICE_ENTRY = 'networking.istio.io/ServiceEntry';

export interface FederatedEndpoint {
  serviceEntry: KubeObject;
  host: string;
  /** The Service behind the host: its first label, in the ServiceEntry's namespace. */
  service: { namespace: string | undefined; name: string };
  index: number;
  address: string;
  /** The cluster the endpoint names, when it names one. */
  cluster?: string;
}

/**
 * Endpoints per cluster inventory and cluster label. The engine keeps a cluster's inventory while its objects are
 * unchanged, so judging the fleet again after one change (the watch) reads again only that cluster's ServiceEntries,
 * and the two rules that need the endpoints read them once.
 */
const ENDPOINTS = new WeakMap<FleetClusterView['inventory'], Map<string, readonly FederatedEndpoint[]>>();

/** Every endpoint of every `*.global` ServiceEntry of a cluster (shared between rules: never modify it). */
export function federatedEndpoints(cluster: FleetClusterView, clusterLabel: string): readonly FederatedEndpoint[] {
  const memo = ENDPOINTS.get(cluster.inventory) ?? ENDPOINTS.set(cluster.inventory, new Map()).get(cluster.inventory)!;
  let endpoints = memo.get(clusterLabel);
  if (!endpoints) memo.set(clusterLabel, (endpoints = Object.freeze(readEndpoints(cluster, clusterLabel))));
  return endpoints;
}

function readEndpoints(cluster: FleetClusterView, clusterLabel: string): FederatedEndpoint[] {
  const out: FederatedEndpoint[] = [];
  for (const se of cluster.inventory.list(SERVICE_ENTRY)) {
    const spec = isObject(se.spec) ? se.spec : {};
    const hosts = Array.isArray(spec.hosts) ? spec.hosts.filter((h): h is string => typeof h === 'string') : [];
    const host = hosts.find((h) => h.toLowerCase().endsWith('.global'));
    if (!host) continue;
    const endpoints = Array.isArray(spec.endpoints) ? spec.endpoints : [];
    endpoints.forEach((ep: unknown, index) => {
      if (!isObject(ep)) return;
      const labels = isObject(ep.labels) ? ep.labels : {};
      const byLabel = typeof labels[clusterLabel] === 'string' ? (labels[clusterLabel] as string) : undefined;
      const locality = typeof ep.locality === 'string' ? ep.locality.split('/').filter(Boolean) : [];
      const named = byLabel || (locality.length > 1 ? locality[locality.length - 1] : undefined);
      out.push({
        serviceEntry: se,
        host,
        service: { namespace: se.metadata?.namespace, name: host.split('.')[0] },
        index,
        address: typeof ep.address === 'string' ? ep.address : `#${index}`,
        ...(named ? { cluster: named } : {}),
      });
    });
  }
  return out;
}

/** A ServiceEntry for examples: one `*.global` host, endpoints naming clusters. */
export function globalServiceEntry(name: string, namespace: string, host: string, endpoints: { cluster: string; locality?: string }[]): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'ServiceEntry',
    metadata: { name, namespace },
    spec: {
      hosts: [host],
      location: 'MESH_INTERNAL',
      resolution: 'DNS',
      ports: [{ number: 50051, name: 'grpc', protocol: 'GRPC' }],
      endpoints: endpoints.map((e) => ({ address: `${host.split('.')[0]}.${e.cluster}.internal`, locality: e.locality ?? `region/${e.cluster}`, labels: { cluster: e.cluster } })),
    },
  };
}

export function service(name: string, namespace: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ port: 50051 }] } };
}
