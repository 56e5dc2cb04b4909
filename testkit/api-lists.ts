/**
 * What the API double answers to a GET: discovery (APIVersions, APIGroupList, APIResourceList) and lists, paged with
 * `limit` and `continue` tokens bound to the cluster's resourceVersion, items shaped as the apiserver lists them.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KubeObject } from '../src/index.js';
import type { DoubleCluster, RequestRecord, ResourceType } from './api-cluster.js';
import { listRefused, type Answer } from './api-faults.js';
import { status } from './api-status.js';

const notFound = (): Answer => ({ code: 404, body: status(404, 'NotFound', 'the server could not find the requested resource') });

/** The answer to a GET of `route` on `cluster`; `port` is the double's (APIVersions names the server address). */
export function serve(cluster: DoubleCluster, route: Route, url: URL, rec: RequestRecord, port: number, authorization?: string): Answer {
  const served = cluster.served();
  if (route.type === 'core-versions') {
    return {
      code: 200,
      body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }] },
    };
  }
  if (route.type === 'groups') return groupList(served);
  const types = served.filter((t) => t.group === route.group && t.versions.includes(route.version));
  const gv = route.group ? `${route.group}/${route.version}` : route.version;
  if (!types.length) return notFound();
  if (route.type === 'resources') return resourceList(types, gv);
  const t = types.find((x) => x.name === route.resource);
  if (!t || (route.namespace && !t.namespaced)) return notFound();
  return listRefused(cluster.faults, t, route.namespace, url.searchParams.get('continue'), rec, authorization) ?? list(cluster, t, gv, route.namespace, url, rec);
}

function groupList(served: ResourceType[]): Answer {
  const groups = new Map<string, string[]>();
  for (const t of served) {
    if (!t.group) continue;
    const vs = groups.get(t.group) ?? [];
    for (const v of t.versions) if (!vs.includes(v)) vs.push(v);
    groups.set(t.group, vs);
  }
  return {
    code: 200,
    body: {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, vs]) => ({
        name,
        versions: vs.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${name}/${vs[0]}`, version: vs[0] },
      })),
    },
  };
}

function resourceList(types: ResourceType[], gv: string): Answer {
  const resources: unknown[] = [];
  for (const t of types) {
    resources.push({
      name: t.name,
      singularName: t.singularName,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      storageVersionHash: createHash('sha256').update(gv + t.name).digest('base64').slice(0, 11),
    });
    for (const s of t.subresources ?? []) resources.push({ name: `${t.name}/${s}`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
  }
  return { code: 200, body: { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources } };
}

/** One page of a list; a `continue` token from another resourceVersion is 410 Expired, as on a real apiserver. */
function list(cluster: DoubleCluster, t: ResourceType, gv: string, namespace: string | undefined, url: URL, rec: RequestRecord): Answer {
  const f = cluster.faults;
  const cont = url.searchParams.get('continue');
  let start = 0;
  let rv = String(cluster.resourceVersion);
  if (cont) {
    try {
      const tok = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as { rv: string; start: number; r: string };
      if (tok.r !== `${gv}/${t.name}` || typeof tok.start !== 'number') throw new Error('bad');
      if (tok.rv !== rv) {
        rec.fault = 'stale-continue';
        return { code: 410, body: status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.') };
      }
      start = tok.start;
      rv = tok.rv;
    } catch {
      return { code: 400, body: status(400, 'BadRequest', 'continue key is not valid: illegal base64 data') };
    }
  }
  const all = cluster.objects
    .filter((o) => objectGroup(o) === t.group && o.kind === t.kind && (!namespace || o.metadata?.namespace === namespace))
    .sort((a, b) => key(a).localeCompare(key(b)));
  const limitRaw = Number(url.searchParams.get('limit') ?? '0');
  const limit = Number.isInteger(limitRaw) && limitRaw > 0 ? limitRaw : all.length || 1;
  const page = all.slice(start, start + limit);
  const end = start + page.length;
  const metadata: Record<string, unknown> = { resourceVersion: rv };
  if (end < all.length) {
    metadata.continue = Buffer.from(JSON.stringify({ rv, start: end, r: `${gv}/${t.name}` })).toString('base64url');
    metadata.remainingItemCount = all.length - end;
  }
  const items: unknown[] = page.map((o, i) => listItem(o, t, gv, start + i));
  if (f.extraItems) items.push(...f.extraItems);
  if (f.endlessContinue) {
    // the same page again and again, each time with a token never seen before
    metadata.continue = Buffer.from(JSON.stringify({ rv, start, r: `${gv}/${t.name}`, n: randomBytes(6).toString('hex') })).toString('base64url');
    rec.fault = 'endlessContinue';
  }
  return { code: 200, body: { kind: `${t.kind}List`, apiVersion: gv, metadata, items } };
}

export type Route =
  | { type: 'core-versions' }
  | { type: 'groups' }
  | { type: 'resources'; group: string; version: string }
  | { type: 'list'; group: string; version: string; resource: string; namespace?: string };

export function parseRoute(path: string): Route | undefined {
  const p = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (p[0] === 'api') {
    if (p.length === 1) return { type: 'core-versions' };
    const [, version, ...rest] = p;
    return tail('', version, rest);
  }
  if (p[0] === 'apis') {
    if (p.length === 1) return { type: 'groups' };
    if (p.length < 3) return undefined;
    const [, group, version, ...rest] = p;
    return tail(group, version, rest);
  }
  return undefined;
}

function tail(group: string, version: string, rest: string[]): Route | undefined {
  if (rest.length === 0) return { type: 'resources', group, version };
  if (rest.length === 1) return { type: 'list', group, version, resource: rest[0] };
  if (rest.length === 3 && rest[0] === 'namespaces') return { type: 'list', group, version, resource: rest[2], namespace: rest[1] };
  return undefined;
}

function objectGroup(o: KubeObject): string {
  const av = o.apiVersion ?? '';
  const i = av.indexOf('/');
  return i < 0 ? '' : av.slice(0, i);
}

function key(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** The object as the apiserver lists it: server-set metadata filled in (deterministically), apiVersion/kind only for CRDs. */
function listItem(o: KubeObject, t: ResourceType, gv: string, index: number): KubeObject {
  const copy = structuredClone(o);
  const meta = (copy.metadata ??= {});
  meta.uid ??= uidFor(t, o);
  meta.resourceVersion ??= String(100 + index);
  meta.creationTimestamp ??= '2024-01-01T00:00:00Z';
  if (t.crd) {
    copy.apiVersion = gv;
    copy.kind = t.kind;
    return copy;
  }
  delete copy.apiVersion;
  delete copy.kind;
  return copy;
}

function uidFor(t: ResourceType, o: KubeObject): string {
  const h = createHash('sha256').update(`${t.group}/${t.kind}/${key(o)}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
