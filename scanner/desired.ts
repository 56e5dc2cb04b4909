import { execFile } from 'node:child_process';
import { access, readdir, stat } from 'node:fs/promises';
import { delimiter, extname, join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { identityOf, isPlainObject, loadFile, loadText, matchesConditions, type KubeObject, type Resource } from '../src/index.js';
import type { Fleet, FleetCluster, FleetError, FleetLayer } from './fleet.js';

/**
 * Desired state: every manifest of every layer whose `when` matches the cluster's labels, in layer order, an object
 * declared again by a later layer merged over the earlier one with JSON merge patch (RFC 7386) semantics.
 */

const MANIFEST_EXT = new Set(['.yaml', '.yml', '.json']);
export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

export interface LayerObjects {
  layer: FleetLayer;
  objects: KubeObject[];
  /** With `positions` (lint --fleet): where each object's fields are in the layer's files. */
  locate?: Map<KubeObject, NonNullable<Resource['locate']>>;
}

export interface LayerOptions {
  kubectl?: string;
  /** Keep file:line:column of every object (lint); the scan does without. Rendered kustomize output has none. */
  positions?: boolean;
}

/** RFC 7386 JSON merge patch: objects merge key by key, `null` deletes, anything else (arrays too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredCloneJson(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function structuredCloneJson(v: unknown): unknown {
  return v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as unknown);
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** Finds `kubectl` on PATH (no shell). */
export async function findKubectl(pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, process.platform === 'win32' ? 'kubectl.exe' : 'kubectl');
    if (await exists(p)) return p;
  }
  return undefined;
}

const run = promisify(execFile);

export async function renderKustomize(dir: string, errors: FleetError[], kubectl?: string): Promise<KubeObject[]> {
  const bin = kubectl ?? (await findKubectl());
  if (!bin) {
    errors.push({
      file: dir,
      message: 'this folder has a kustomization.yaml: rendering it needs `kubectl kustomize`, but kubectl is not on PATH (install kubectl, or render the overlay to plain YAML)',
    });
    return [];
  }
  try {
    const { stdout } = await run(bin, ['kustomize', dir], { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
    const loaded = loadText(stdout, `${dir} (kubectl kustomize)`, { positions: false });
    errors.push(...loaded.errors);
    return loaded.resources.map((r) => r.object);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    errors.push({ file: dir, message: `kubectl kustomize failed: ${(e.stderr || e.message).trim().split('\n')[0]}` });
    return [];
  }
}

/** Objects of one layer: its manifests (recursively), leaving out subfolders that are layers of their own; kustomize folders rendered. */
export async function loadLayer(
  layer: FleetLayer,
  otherLayerDirs: ReadonlySet<string>,
  errors: FleetError[],
  opts: LayerOptions = {},
  locate?: Map<KubeObject, NonNullable<Resource['locate']>>,
): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  try {
    if (!(await stat(layer.dir)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
  } catch (err) {
    errors.push({ file: layer.dir, message: `layer "${layer.path}": cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
    return objects;
  }
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    if (entries.some((e) => e.isFile() && KUSTOMIZATION_FILES.includes(e.name))) {
      objects.push(...(await renderKustomize(dir, errors, opts.kubectl)));
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!otherLayerDirs.has(resolve(p))) await walk(p);
      } else if (e.isFile() && MANIFEST_EXT.has(extname(e.name).toLowerCase())) {
        const loaded = await loadFile(p, { positions: !!opts.positions });
        errors.push(...loaded.errors);
        for (const r of loaded.resources) {
          objects.push(r.object);
          if (locate && r.locate) locate.set(r.object, r.locate);
        }
      }
    }
  };
  await walk(layer.dir);
  return objects;
}

/** Loads every layer once; a fleet of hundreds of clusters shares them. */
export async function loadLayers(fleet: Fleet, opts: LayerOptions = {}): Promise<{ layers: LayerObjects[]; errors: FleetError[] }> {
  const errors: FleetError[] = [];
  const dirs = new Set(fleet.layers.map((l) => resolve(l.dir)));
  const layers: LayerObjects[] = [];
  for (const layer of fleet.layers) {
    const others = new Set([...dirs].filter((d) => d !== resolve(layer.dir) && d.startsWith(resolve(layer.dir) + sep)));
    const locate = opts.positions ? new Map<KubeObject, NonNullable<Resource['locate']>>() : undefined;
    layers.push({ layer, objects: await loadLayer(layer, others, errors, opts, locate), ...(locate ? { locate } : {}) });
  }
  return { layers, errors };
}

export function layersFor(cluster: Pick<FleetCluster, 'labels'>, layers: readonly LayerObjects[]): LayerObjects[] {
  return layers.filter((l) => matchesConditions(cluster.labels, l.layer.when));
}

/** Desired state of a cluster, cached per distinct set of layers (clusters of one cohort share one desired state). */
export class DesiredState {
  private readonly cache = new Map<string, Map<string, KubeObject>>();

  constructor(readonly layers: readonly LayerObjects[]) {}

  layerNames(cluster: Pick<FleetCluster, 'labels'>): string[] {
    return layersFor(cluster, this.layers).map((l) => l.layer.path);
  }

  /** identity → merged object. Shared between clusters: callers must not modify the objects. */
  for(cluster: Pick<FleetCluster, 'labels'>): Map<string, KubeObject> {
    const chosen = this.layers.map((l, i) => (matchesConditions(cluster.labels, l.layer.when) ? i : -1)).filter((i) => i >= 0);
    const key = chosen.join(',');
    let desired = this.cache.get(key);
    if (!desired) {
      desired = new Map();
      for (const i of chosen) {
        for (const obj of this.layers[i].objects) {
          const id = identityOf(obj);
          const prev = desired.get(id);
          desired.set(id, (prev ? mergePatch(prev, obj) : obj) as KubeObject);
        }
      }
      this.cache.set(key, desired);
    }
    return desired;
  }
}
