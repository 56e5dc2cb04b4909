import type { Container, ContainerPort, Lifecycle, PodSecurityContext, PodSpec, Probe, ResourceRequirements, SecurityContext, Volume } from 'kubernetes-types/core/v1.js';
import { getAt, splitDotted } from './path.js';
import { isPlainObject } from '../model/index.js';
import type { KubeObject, ObjectMeta, PathSegments } from '../model/index.js';

/**
 * Autogen: where each pod controller keeps its pod template. A policy that matches `Pod` is run on these
 * templates too, and its paths point inside the template (`$.spec.template.spec.containers[0]...`).
 */
export const POD_TEMPLATE_PATHS: Readonly<Record<string, PathSegments>> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
  PodTemplate: ['template'],
};

export const POD_CONTROLLER_KINDS = Object.keys(POD_TEMPLATE_PATHS).filter((k) => k !== 'Pod');

/** The API group of each pod controller: autogen applies to these, not to a custom resource that reuses a kind name. */
const POD_CONTROLLER_GROUPS: Readonly<Record<string, string>> = {
  Deployment: 'apps',
  StatefulSet: 'apps',
  DaemonSet: 'apps',
  ReplicaSet: 'apps',
  ReplicationController: '',
  Job: 'batch',
  CronJob: 'batch',
  PodTemplate: '',
};

/** Whether an object of this kind and API group is a pod controller (it has a pod template that autogen judges). */
export function isPodController(kind: string, group: string): boolean {
  return Object.prototype.hasOwnProperty.call(POD_CONTROLLER_GROUPS, kind) && POD_CONTROLLER_GROUPS[kind] === group;
}

export type ContainerType = 'containers' | 'initContainers' | 'ephemeralContainers';
const CONTAINER_TYPES: readonly ContainerType[] = ['containers', 'initContainers', 'ephemeralContainers'];

export interface ContainerView {
  readonly name: string;
  readonly type: ContainerType;
  readonly index: number;
  /** The container as written (typed as a well-formed one: compare values rather than trust them). */
  readonly spec: Container;
  /** `securityContext` when it is an object, else undefined (guarded: no cast, no `typeof` check needed). */
  readonly securityContext: SecurityContext | undefined;
  /** `resources` when it is an object, else undefined. */
  readonly resources: ResourceRequirements | undefined;
  /** `ports` when it is an array, else an empty list; entries as written (read them with `?.`). */
  readonly ports: readonly ContainerPort[];
  /** `lifecycle` when it is an object, else undefined. */
  readonly lifecycle: Lifecycle | undefined;
  /** The liveness, readiness or startup probe when it is an object, else undefined. */
  probe(which: ProbeField): Probe | undefined;
  /** Value at a dotted path relative to the container, e.g. `securityContext.privileged`. */
  get(path: string): unknown;
  /** Absolute path segments (from the object's root) of a dotted path relative to the container. */
  path(path?: string): PathSegments;
}

export type ProbeField = 'livenessProbe' | 'readinessProbe' | 'startupProbe';

export interface VolumeView {
  readonly name: string;
  readonly index: number;
  readonly spec: Volume;
  path(path?: string): PathSegments;
}

type Raw = Record<string, unknown>;
const objectOr = <T>(v: unknown): T | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as T) : undefined);
const NO_PORTS: readonly ContainerPort[] = Object.freeze([]);

/**
 * One container of a pod. `securityContext` is read and guarded once, when the view is made, so the many policies
 * that judge one pod (all the PSS checks read it) share one read and one shape check; every container view has the
 * same class, so the engine's hot loop reads them through one inline cache.
 */
class Container_ implements ContainerView {
  readonly spec: Container;
  // Read when the view is made, not on first use: the sandbox freezes shared views, so they never change later.
  readonly securityContext: SecurityContext | undefined;
  constructor(
    readonly name: string,
    readonly type: ContainerType,
    readonly index: number,
    private readonly raw: Raw,
    private readonly templatePath: PathSegments,
  ) {
    this.spec = raw as unknown as Container;
    this.securityContext = objectOr<SecurityContext>(raw.securityContext);
  }

  get resources(): ResourceRequirements | undefined {
    return objectOr<ResourceRequirements>(this.raw.resources);
  }

  get ports(): readonly ContainerPort[] {
    const p = this.raw.ports;
    return Array.isArray(p) ? (p as ContainerPort[]) : NO_PORTS;
  }

  get lifecycle(): Lifecycle | undefined {
    return objectOr<Lifecycle>(this.raw.lifecycle);
  }

  probe(which: ProbeField): Probe | undefined {
    return objectOr<Probe>(this.raw[which]);
  }

  get(path: string): unknown {
    return getAt(this.raw, splitDotted(path));
  }

  path(path = ''): PathSegments {
    // built only when a policy reports something
    return [...this.templatePath, 'spec', this.type, this.index, ...splitDotted(path)];
  }
}

/** A read-only view of the pod spec inside a Pod or any pod controller, with absolute paths. */
export class PodView {
  readonly spec: PodSpec;
  readonly metadata: ObjectMeta;
  /** Path of the pod template (`[]` for a Pod itself): `.metadata` and `.spec` hang below it. */
  readonly templatePath: PathSegments;
  private cachedContainers?: ContainerView[];
  private cachedVolumes?: VolumeView[];
  private cachedOs: string | undefined | null = null;
  /** `spec.securityContext` when it is an object, else undefined (guarded like the containers' one). */
  readonly securityContext: PodSecurityContext | undefined;

  private constructor(spec: PodSpec, metadata: ObjectMeta, templatePath: PathSegments) {
    this.spec = spec;
    this.metadata = metadata;
    this.templatePath = templatePath;
    this.securityContext = objectOr<PodSecurityContext>(spec.securityContext);
  }

  /** The pod view of an object, or undefined when it is neither a Pod nor a pod controller with a template. */
  static of(obj: KubeObject): PodView | undefined {
    const templatePath = typeof obj.kind === 'string' ? POD_TEMPLATE_PATHS[obj.kind] : undefined;
    if (!templatePath) return undefined;
    const template = templatePath.length ? getAt(obj, templatePath) : obj;
    if (!isPlainObject(template)) return undefined;
    const spec = isPlainObject(template.spec) ? (template.spec as unknown as PodSpec) : ({} as PodSpec);
    const metadata = isPlainObject(template.metadata) ? (template.metadata as ObjectMeta) : {};
    return new PodView(spec, metadata, templatePath);
  }

  /** Absolute path of a dotted path relative to the pod spec (`hostNetwork`, `securityContext.seccompProfile`). */
  path(path = ''): PathSegments {
    return [...this.templatePath, 'spec', ...splitDotted(path)];
  }

  metadataPath(path = ''): PathSegments {
    return [...this.templatePath, 'metadata', ...splitDotted(path)];
  }

  get(path: string): unknown {
    return getAt(this.spec, splitDotted(path));
  }

  get annotations(): Record<string, string> {
    return isPlainObject(this.metadata.annotations) ? this.metadata.annotations : {};
  }

  /** `spec.os.name` when set (PSS exempts some checks for Windows pods). Read once: several checks ask. */
  get os(): string | undefined {
    if (this.cachedOs === null) {
      const name = this.get('os.name');
      this.cachedOs = typeof name === 'string' ? name : undefined;
    }
    return this.cachedOs;
  }

  /**
   * Containers, init containers and ephemeral containers, in that order, each with its own paths. Built once per
   * pod and shared by every policy judging it: treat the array as read-only.
   */
  containers(): ContainerView[] {
    if (this.cachedContainers) return this.cachedContainers;
    const out: ContainerView[] = [];
    const spec = this.spec as unknown as Record<string, unknown>;
    const { templatePath } = this;
    for (const type of CONTAINER_TYPES) {
      const list = spec[type];
      if (!Array.isArray(list)) continue;
      for (let index = 0; index < list.length; index++) {
        const c: unknown = list[index];
        if (!isPlainObject(c)) continue;
        out.push(new Container_(typeof c.name === 'string' ? c.name : `#${index}`, type, index, c, templatePath));
      }
    }
    this.cachedContainers = out;
    return out;
  }

  /** The pod's volumes, each with its own paths (built once per pod, like containers(): read-only). */
  volumes(): VolumeView[] {
    if (this.cachedVolumes) return this.cachedVolumes;
    const list = this.spec.volumes;
    const out: VolumeView[] = [];
    const { templatePath } = this;
    if (Array.isArray(list))
      for (let index = 0; index < list.length; index++) {
        const v: unknown = list[index];
        if (!isPlainObject(v)) continue;
        out.push({
          name: typeof v.name === 'string' ? v.name : `#${index}`,
          index,
          spec: v as unknown as Volume,
          path: (p = '') => [...templatePath, 'spec', 'volumes', index, ...splitDotted(p)],
        });
      }
    this.cachedVolumes = out;
    return out;
  }
}
