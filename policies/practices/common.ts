import type { ContainerView, KubeObject, PodView } from '../../src/index.js';
import { pod as podOf } from '../_shared/examples.js';

/**
 * Helpers shared by the practices pack: reading image references the way the container runtime does, matching
 * the Gatekeeper library's `exemptImages` (exact names, or a prefix ending in `*`), and example builders that put
 * the same containers into a Pod and into each pod controller, so every rule is shown on pods, templates (autogen)
 * and init/ephemeral containers.
 */

export interface ImageRef {
  /** Registry host (with port) when the first path component names one (has `.` or `:`, or is `localhost`). */
  registry?: string;
  /** Repository path without registry, tag or digest. */
  repository: string;
  tag?: string;
  digest?: string;
}

/**
 * Splits an image reference. The tag is what follows the last `:` after the last `/`, so the port in
 * `registry:5000/app` is not a tag and `registry:5000/app` is untagged.
 */
export function parseImage(image: string): ImageRef {
  let rest = image.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  const hasRegistry = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  return {
    registry: hasRegistry ? first : undefined,
    repository: hasRegistry ? rest.slice(slash + 1) : rest,
    tag: tag || undefined,
    digest: digest || undefined,
  };
}

/** Gatekeeper's `exemptImages`: an entry ending in `*` is a prefix, any other entry must equal the image. */
export function isExemptImage(image: string, exemptImages: unknown): boolean {
  if (!Array.isArray(exemptImages)) return false;
  for (const e of exemptImages) {
    if (typeof e !== 'string' || !e) continue;
    if (e.endsWith('*') ? image.startsWith(e.slice(0, -1)) : image === e) return true;
  }
  return false;
}

const NONE: string[] = [];
/** The strings of a list parameter, filtered once per list: parameters are the same array on every admission. */
const stringLists = new WeakMap<object, string[]>();
export function strings(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0) return NONE;
  let out = stringLists.get(v);
  if (!out) stringLists.set(v, (out = v.filter((x): x is string => typeof x === 'string')));
  return out;
}

export const KIND_OF: Record<ContainerView['type'], string> = {
  containers: 'container',
  initContainers: 'init container',
  ephemeralContainers: 'ephemeral container',
};

/** `container "web"`, `init container "migrate"`: how findings name a container. */
export const describeContainer = (c: ContainerView): string => `${KIND_OF[c.type]} "${c.name}"`;

/** Each container with a string image that is not exempt, for image rules (a plain loop: this runs on every admission). */
export function imagesOf(pod: PodView, exemptImages: unknown): { c: ContainerView; image: string }[] {
  const out: { c: ContainerView; image: string }[] = [];
  const exempt = Array.isArray(exemptImages) && exemptImages.length > 0;
  for (const c of pod.containers()) {
    const image = c.spec.image;
    if (typeof image !== 'string' || !image) continue;
    if (exempt && isExemptImage(image, exemptImages)) continue;
    out.push({ c, image });
  }
  return out;
}

type Spec = Record<string, unknown>;

export const pod = (spec: Spec, name = 'web', namespace = 'shop', labels: Record<string, string> = { app: name }): KubeObject =>
  podOf(spec, { name, namespace, labels });

const template = (spec: Spec, app: string) => ({ metadata: { labels: { app } }, spec });

export const deployment = (spec: Spec, replicas: number | null = 2, name = 'web', namespace = 'shop'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: { ...(replicas === null ? {} : { replicas }), selector: { matchLabels: { app: name } }, template: template(spec, name) },
});

export const statefulSet = (spec: Spec, replicas: number | null = 3, name = 'db', namespace = 'shop'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name, namespace },
  spec: { ...(replicas === null ? {} : { replicas }), serviceName: name, selector: { matchLabels: { app: name } }, template: template(spec, name) },
});

export const cronJob = (spec: Spec, name = 'report', namespace = 'shop'): KubeObject => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name, namespace },
  spec: { schedule: '@daily', jobTemplate: { spec: { template: template({ restartPolicy: 'OnFailure', ...spec }, name) } } },
});

export const daemonSet = (spec: Spec, name = 'agent', namespace = 'shop'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace },
  spec: { selector: { matchLabels: { app: name } }, template: template(spec, name) },
});

export const service = (spec: Spec, name = 'web', namespace = 'shop'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], ...spec },
});
