import { labelsOf } from './resource.js';
import type { KubeObject, PathSegments, SourceLocation } from './types.js';

/** One object with where it came from (a file position resolver for lint, nothing for live objects). */
export interface Resource {
  readonly object: KubeObject;
  readonly file?: string;
  /** Maps a path inside the object to file:line:column; called only when a finding needs it. */
  readonly locate?: (path: PathSegments) => SourceLocation | undefined;
}

/**
 * The set of objects a cluster-scope policy judges: a live cluster (scan) or every file given to lint.
 * Indexed once by kind so policies asking "which NetworkPolicies are in namespace X" stay linear overall.
 */
export class Inventory {
  readonly resources: readonly Resource[];
  private readonly byKind = new Map<string, KubeObject[]>();
  private readonly namespacesByName = new Map<string, KubeObject>();
  private readonly resourceOf = new WeakMap<KubeObject, Resource>();

  constructor(resources: readonly Resource[]) {
    this.resources = resources;
    for (const r of resources) {
      const o = r.object;
      this.resourceOf.set(o, r);
      const kind = typeof o.kind === 'string' ? o.kind : '';
      let list = this.byKind.get(kind);
      if (!list) this.byKind.set(kind, (list = []));
      list.push(o);
      if (kind === 'Namespace' && typeof o.metadata?.name === 'string') this.namespacesByName.set(o.metadata.name, o);
    }
  }

  all(): KubeObject[] {
    return this.resources.map((r) => r.object);
  }

  /** Objects of a kind (plain kind name), optionally only those in one namespace. */
  ofKind(kind: string, namespace?: string): KubeObject[] {
    const list = this.byKind.get(kind) ?? [];
    return namespace === undefined ? list : list.filter((o) => o.metadata?.namespace === namespace);
  }

  namespaces(): KubeObject[] {
    return [...this.namespacesByName.values()];
  }

  namespace(name: string): KubeObject | undefined {
    return this.namespacesByName.get(name);
  }

  namespaceLabels(name: string): Record<string, string> | undefined {
    const ns = this.namespacesByName.get(name);
    return ns ? labelsOf(ns) : undefined;
  }

  resourceFor(obj: KubeObject): Resource | undefined {
    return this.resourceOf.get(obj);
  }
}
