/**
 * Writes for the API double (api-double.ts), just enough for `scan --publish-reports`: server-side apply
 * (`PATCH` with `application/apply-patch+yaml`, a `fieldManager`, `force`) and `DELETE` of custom resources the
 * cluster is given here. The applied object is validated the way the API server would (a CRD schema check passed
 * in), needs its namespace to exist, and replaces what the same field manager applied before (one manager owns
 * every field it sends: what server-side apply does for a sole, forcing manager). `faults.forbidden` answers 403.
 *
 *   enableWrites(api.cluster('par01'), [{ type: POLICY_REPORT, validate: (o) => crd.problems(o) }]);
 */
import type { IncomingMessage } from 'node:http';
import { parse } from 'yaml';
import type { KubeObject } from '../src/index.js';
import { status, type DoubleCluster, type ResourceType } from './api-double.js';

export interface WritableType {
  type: ResourceType;
  /** Schema problems of an applied object (empty: valid). */
  validate?: (obj: Record<string, any>) => string[];
}

const crd = (group: string, version: string, kind: string, name: string, namespaced: boolean): ResourceType => ({
  group,
  versions: [version],
  kind,
  name,
  singularName: kind.toLowerCase(),
  namespaced,
  crd: true,
});

export const REPORT_TYPES = {
  PolicyReport: crd('wgpolicyk8s.io', 'v1alpha2', 'PolicyReport', 'policyreports', true),
  ClusterPolicyReport: crd('wgpolicyk8s.io', 'v1alpha2', 'ClusterPolicyReport', 'clusterpolicyreports', false),
  Report: crd('openreports.io', 'v1alpha1', 'Report', 'reports', true),
  ClusterReport: crd('openreports.io', 'v1alpha1', 'ClusterReport', 'clusterreports', false),
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `/apis/G/V/[namespaces/NS/]RESOURCE/NAME` */
function objectRoute(path: string): { group: string; version: string; namespace?: string; resource: string; name: string } | undefined {
  const p = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (p[0] !== 'apis') return undefined;
  if (p.length === 5) return { group: p[1], version: p[2], resource: p[3], name: p[4] };
  if (p.length === 7 && p[3] === 'namespaces') return { group: p[1], version: p[2], namespace: p[4], resource: p[5], name: p[6] };
  return undefined;
}

export function enableWrites(cluster: DoubleCluster, writable: WritableType[]): void {
  cluster.types.push(...writable.map((w) => w.type));
  cluster.writes = (req, path, send) => {
    const url = new URL(req.url ?? '/', 'https://double');
    const route = objectRoute(path);
    const w = route && writable.find((x) => x.type.group === route.group && x.type.versions.includes(route.version) && x.type.name === route.resource);
    if (!route || !w || !!route.namespace !== w.type.namespaced) return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const t = w.type;
    if (cluster.faults.forbidden?.some((r) => r === t.name || r === `${t.name}.${t.group}`)) {
      const verb = req.method === 'DELETE' ? 'delete' : 'patch';
      return send(403, status(403, 'Forbidden', `${t.name}.${t.group} "${route.name}" is forbidden: User "fleetgate-scanner" cannot ${verb} resource "${t.name}" in API group "${t.group}"`));
    }
    const same = (o: KubeObject) => o.kind === t.kind && o.apiVersion?.startsWith(`${t.group}/`) && o.metadata?.name === route.name && (o.metadata?.namespace ?? undefined) === route.namespace;
    const existing = cluster.objects.find(same);
    if (req.method === 'DELETE') {
      if (!existing) return send(404, status(404, 'NotFound', `${t.name}.${t.group} "${route.name}" not found`));
      cluster.setObjects(cluster.objects.filter((o) => o !== existing));
      return send(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: route.name, group: t.group, kind: t.name } });
    }
    if (req.method !== 'PATCH') return send(405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    if (req.headers['content-type'] !== 'application/apply-patch+yaml') return send(415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml`));
    if (!url.searchParams.get('fieldManager')) return send(400, status(400, 'BadRequest', 'fieldManager is required for apply requests'));
    readBody(req).then((text) => {
      let obj: Record<string, any>;
      try {
        obj = parse(text);
      } catch (err) {
        return send(400, status(400, 'BadRequest', `error decoding YAML: ${(err as Error).message}`));
      }
      if (obj?.apiVersion !== `${t.group}/${route.version}` || obj.kind !== t.kind || obj.metadata?.name !== route.name || obj.metadata?.namespace !== route.namespace)
        return send(400, status(400, 'BadRequest', 'the object does not match the request path (apiVersion, kind, namespace, name)'));
      if (route.namespace && !cluster.objects.some((o) => o.kind === 'Namespace' && o.metadata?.name === route.namespace))
        return send(404, status(404, 'NotFound', `namespaces "${route.namespace}" not found`));
      const problems = w.validate?.(obj) ?? [];
      if (problems.length) return send(422, status(422, 'Invalid', `${t.kind}.${t.group} "${route.name}" is invalid: ${problems.join('; ')}`));
      const stored = { ...obj, metadata: { ...obj.metadata, managedFields: [{ manager: url.searchParams.get('fieldManager'), operation: 'Apply' }] } } as KubeObject;
      cluster.setObjects([...cluster.objects.filter((o) => o !== existing), stored]);
      send(existing ? 200 : 201, stored);
    }, () => send(400, status(400, 'BadRequest', 'cannot read the request body')));
  };
}
