import { ClusterReadError, HttpStatus } from './errors.js';
import type { RequestSession } from './retry.js';

/**
 * Resolves kinds (`apps/v1 Deployment`) to the REST resources that serve them on one cluster, through the
 * discovery documents (/api, /apis, /api/v1, /apis/GROUP/VERSION), each fetched at most once.
 */

interface ApiResource {
  name: string;
  kind: string;
  namespaced?: boolean;
  verbs?: string[];
}

/** A kind resolved to the REST resource that serves it. */
export interface Target {
  group: string;
  groupVersion: string;
  kind: string;
  resource: string;
  /** `/api/v1/pods`, `/apis/apps/v1/deployments` */
  path: string;
  /** `apps/v1 deployments`, for messages */
  label: string;
}

export class Discovery {
  private coreVersions?: Promise<string[]>;
  private groups?: Promise<Map<string, { versions: string[]; preferred?: string }>>;
  private readonly resourceLists = new Map<string, Promise<ApiResource[] | undefined>>();

  constructor(
    private readonly session: RequestSession,
    private readonly warnings: string[],
  ) {}

  /** The targets for `kinds`, each resource once; kinds the cluster does not serve are skipped with a warning. */
  async resolveKinds(kinds: readonly { apiVersion: string; kind: string }[]): Promise<Target[]> {
    const seen = new Set<string>();
    const results: Target[] = [];
    // discovery documents are fetched once per cluster (memoised promises), so resolving in parallel is cheap; each
    // kind's warnings are added in the order of `kinds`, not of the answers, so a report reads the same every run
    const notes = kinds.map((): string[] => []);
    const resolved = await Promise.all(kinds.map((k, i) => this.resolveKind(k.apiVersion, k.kind, notes[i])));
    for (const n of notes) this.warnings.push(...n);
    for (const t of resolved) {
      if (!t || seen.has(t.path)) continue;
      seen.add(t.path);
      results.push(t);
    }
    return results;
  }

  private async resolveKind(apiVersion: string, kind: string, warn: string[]): Promise<Target | undefined> {
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    let candidates: string[];
    if (group === '') {
      const versions = await this.coreApiVersions();
      candidates = versions.includes(version) ? [version, ...versions.filter((v) => v !== version)] : versions;
    } else {
      const g = (await this.apiGroups()).get(group);
      if (!g) {
        warn.push(`${apiVersion} ${kind}: not served by this cluster (no API group "${group}"); skipped`);
        return undefined;
      }
      const order = [version, g.preferred, ...g.versions].filter((v): v is string => !!v && g.versions.includes(v));
      candidates = [...new Set(order)];
    }
    for (const v of candidates) {
      const gv = group ? `${group}/${v}` : v;
      const resources = await this.resourceList(gv);
      const r = resources?.find((x) => x.kind === kind && !x.name.includes('/'));
      if (!r) continue;
      if (r.verbs && !r.verbs.includes('list')) {
        warn.push(`${gv} ${kind}: the server does not allow listing ${r.name}; skipped`);
        return undefined;
      }
      if (gv !== apiVersion) warn.push(`${apiVersion} ${kind}: not served by this cluster; read as ${gv} instead`);
      const base = group ? `/apis/${gv}` : `/api/${v}`;
      return { group, groupVersion: gv, kind, resource: r.name, path: `${base}/${r.name}`, label: `${gv} ${r.name}` };
    }
    warn.push(`${apiVersion} ${kind}: not served by this cluster; skipped`);
    return undefined;
  }

  private coreApiVersions(): Promise<string[]> {
    this.coreVersions ??= this.session.getJson('/api', 'reading API discovery /api').then((doc) => {
      const versions = (doc as { versions?: unknown }).versions;
      if (!Array.isArray(versions)) throw new ClusterReadError('the server answered /api with something that is not an APIVersions document', 'error');
      return versions.filter((v): v is string => typeof v === 'string');
    });
    return this.coreVersions;
  }

  private apiGroups(): Promise<Map<string, { versions: string[]; preferred?: string }>> {
    this.groups ??= this.session.getJson('/apis', 'reading API discovery /apis').then((doc) => {
      const groups = (doc as { groups?: unknown }).groups;
      if (!Array.isArray(groups)) throw new ClusterReadError('the server answered /apis with something that is not an APIGroupList', 'error');
      const out = new Map<string, { versions: string[]; preferred?: string }>();
      for (const g of groups as { name?: string; versions?: { version?: string }[]; preferredVersion?: { version?: string } }[]) {
        if (typeof g?.name !== 'string') continue;
        out.set(g.name, {
          versions: (g.versions ?? []).map((v) => v?.version).filter((v): v is string => typeof v === 'string'),
          preferred: g.preferredVersion?.version,
        });
      }
      return out;
    });
    return this.groups;
  }

  private resourceList(gv: string): Promise<ApiResource[] | undefined> {
    let p = this.resourceLists.get(gv);
    if (!p) {
      const path = gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`;
      p = this.session.getJson(path, `reading API discovery ${path}`).then(
        (doc) => {
          const resources = (doc as { resources?: unknown }).resources;
          if (!Array.isArray(resources)) throw new ClusterReadError(`the server answered ${path} with something that is not an APIResourceList`, 'error');
          return resources.filter((r): r is ApiResource => typeof r?.name === 'string' && typeof r?.kind === 'string');
        },
        (err) => {
          // a group version that vanished (404) or that we may not see (403) serves nothing we can read
          if (err instanceof HttpStatus && (err.status === 404 || err.status === 403)) {
            if (err.status === 403) this.warnings.push(`${gv}: discovery forbidden (RBAC verb "get" on ${path} is missing); its kinds are skipped`);
            return undefined;
          }
          throw err;
        },
      );
      this.resourceLists.set(gv, p);
    }
    return p;
  }
}
