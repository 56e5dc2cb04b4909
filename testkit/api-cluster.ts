/**
 * The model of one cluster of the API double: the resource types it serves, its objects, its token and the faults
 * set on it, and the record of every request it got.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { KubeObject } from '../src/index.js';
import type { ClusterFaults } from './api-faults.js';

/** A resource type the double knows. Objects of kinds not listed here cannot be served. */
export interface ResourceType {
  group: string;
  /** Versions served, most preferred first. */
  versions: string[];
  kind: string;
  /** Plural resource name. */
  name: string;
  singularName: string;
  namespaced: boolean;
  /** A CRD: its list items carry apiVersion and kind. */
  crd?: boolean;
  shortNames?: string[];
  /** Subresources advertised in discovery (e.g. `status`). */
  subresources?: string[];
}

const rt = (group: string, versions: string[], kind: string, name: string, namespaced: boolean, extra: Partial<ResourceType> = {}): ResourceType => ({
  group,
  versions,
  kind,
  name,
  singularName: kind.toLowerCase(),
  namespaced,
  ...extra,
});

/** The resource types every cluster of the double serves unless told otherwise (`exclude`). */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  rt('', ['v1'], 'Namespace', 'namespaces', false, { shortNames: ['ns'], subresources: ['status', 'finalize'] }),
  rt('', ['v1'], 'Pod', 'pods', true, { shortNames: ['po'], subresources: ['status', 'log', 'exec', 'eviction'] }),
  rt('', ['v1'], 'Service', 'services', true, { shortNames: ['svc'], subresources: ['status'] }),
  rt('', ['v1'], 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  rt('', ['v1'], 'Secret', 'secrets', true),
  rt('', ['v1'], 'ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'], subresources: ['token'] }),
  rt('', ['v1'], 'ResourceQuota', 'resourcequotas', true, { shortNames: ['quota'], subresources: ['status'] }),
  rt('', ['v1'], 'LimitRange', 'limitranges', true, { shortNames: ['limits'] }),
  rt('apps', ['v1'], 'Deployment', 'deployments', true, { shortNames: ['deploy'], subresources: ['status', 'scale'] }),
  rt('apps', ['v1'], 'StatefulSet', 'statefulsets', true, { shortNames: ['sts'], subresources: ['status', 'scale'] }),
  rt('apps', ['v1'], 'DaemonSet', 'daemonsets', true, { shortNames: ['ds'], subresources: ['status'] }),
  rt('apps', ['v1'], 'ReplicaSet', 'replicasets', true, { shortNames: ['rs'], subresources: ['status', 'scale'] }),
  rt('batch', ['v1'], 'Job', 'jobs', true, { subresources: ['status'] }),
  rt('batch', ['v1'], 'CronJob', 'cronjobs', true, { shortNames: ['cj'], subresources: ['status'] }),
  rt('networking.k8s.io', ['v1'], 'NetworkPolicy', 'networkpolicies', true, { shortNames: ['netpol'] }),
  rt('rbac.authorization.k8s.io', ['v1'], 'Role', 'roles', true),
  rt('rbac.authorization.k8s.io', ['v1'], 'RoleBinding', 'rolebindings', true),
  rt('rbac.authorization.k8s.io', ['v1'], 'ClusterRole', 'clusterroles', false),
  rt('rbac.authorization.k8s.io', ['v1'], 'ClusterRoleBinding', 'clusterrolebindings', false),
  rt('networking.istio.io', ['v1', 'v1beta1'], 'DestinationRule', 'destinationrules', true, { crd: true, shortNames: ['dr'], subresources: ['status'] }),
  rt('networking.istio.io', ['v1', 'v1beta1'], 'ServiceEntry', 'serviceentries', true, { crd: true, shortNames: ['se'], subresources: ['status'] }),
  rt('networking.istio.io', ['v1', 'v1beta1'], 'VirtualService', 'virtualservices', true, { crd: true, shortNames: ['vs'], subresources: ['status'] }),
  rt('networking.istio.io', ['v1', 'v1beta1'], 'Gateway', 'gateways', true, { crd: true, shortNames: ['gw'], subresources: ['status'] }),
  rt('security.istio.io', ['v1', 'v1beta1'], 'PeerAuthentication', 'peerauthentications', true, { crd: true, shortNames: ['pa'], subresources: ['status'] }),
  rt('security.istio.io', ['v1', 'v1beta1'], 'AuthorizationPolicy', 'authorizationpolicies', true, { crd: true, subresources: ['status'] }),
];

export interface RequestRecord {
  cluster: string;
  method: string;
  /** Path below the cluster prefix, e.g. `/apis/apps/v1/deployments`. */
  path: string;
  query: Record<string, string>;
  status: number;
  /** The fault injected into this request, if any. */
  fault?: string;
}

export interface ClusterOptions {
  objects?: KubeObject[];
  /** The bearer token this cluster accepts (default: a random one). */
  token?: string;
  /** `client-cert`: authenticate by the client certificate of {@link ApiDouble.clientCert} instead of a token. */
  auth?: 'token' | 'client-cert';
  faults?: ClusterFaults;
  /** Groups (`networking.istio.io`), group versions (`networking.istio.io/v1beta1`) or kinds (`Deployment`) not served. */
  exclude?: string[];
  /** Extra resource types (e.g. another CRD). */
  types?: ResourceType[];
}

export class DoubleCluster {
  readonly requests: RequestRecord[] = [];
  objects: KubeObject[];
  token: string;
  auth: 'token' | 'client-cert';
  faults: ClusterFaults;
  exclude: string[];
  types: ResourceType[];
  /** Bumped by every change of `objects` through {@link setObjects}. */
  resourceVersion = 1000;
  /** Answers requests other than GET (see api-writes.ts); without it the double is read-only (405). */
  writes?: (req: IncomingMessage, path: string, send: (code: number, body: unknown) => void) => void;

  constructor(
    readonly name: string,
    opts: ClusterOptions,
  ) {
    this.objects = opts.objects ?? [];
    this.token = opts.token ?? `dbl-${name}-${randomBytes(12).toString('hex')}`;
    this.auth = opts.auth ?? 'token';
    this.faults = { ...(opts.faults ?? {}) };
    this.exclude = opts.exclude ?? [];
    this.types = [...RESOURCE_TYPES, ...(opts.types ?? [])];
  }

  setObjects(objects: KubeObject[]): void {
    this.objects = objects;
    this.resourceVersion++;
  }

  /** Resource types served, with only the versions served. */
  served(): ResourceType[] {
    const out: ResourceType[] = [];
    for (const t of this.types) {
      if (this.exclude.includes(t.kind) || (t.group && this.exclude.includes(t.group))) continue;
      const versions = t.versions.filter((v) => !this.exclude.includes(t.group ? `${t.group}/${v}` : v));
      if (versions.length) out.push({ ...t, versions });
    }
    return out;
  }
}
