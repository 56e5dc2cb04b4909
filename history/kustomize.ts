import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { refOf, type KubeObject } from '../src/index.js';
import { KUSTOMIZATION_FILES, renderKustomize } from '../scanner/desired.js';
import type { Fleet, FleetError, FleetLayer } from '../scanner/fleet.js';
import { extractTree, filesAt, parentOf, type CommitInfo } from './git.js';
import { describeKey } from './queries.js';
import { resourceKey } from './record.js';

/**
 * Kustomize layers in `history convergence`. A folder of a layer that holds a kustomization is rendered as a whole
 * (scanner/desired.ts), so the objects a commit changed there are not the objects of the files it touched: a patch,
 * a namePrefix, a resource pulled from outside the folder all change what the render gives. So each kustomization
 * root of the layers is rendered at the commit and at its parent (from `git archive` of each, never the working
 * tree), and the objects whose rendering differs are the ones the commit changed.
 */

export interface KustomizeChanges {
  /** Objects the commit added or changed in a kustomize render: `file` is the kustomization folder. */
  changed: { key: string; file: string; layer: FleetLayer }[];
  /** Objects a render no longer gives. */
  removed: { file: string; resource: string }[];
  /** Kustomization folders (relative to the repo's top), at the commit or before it: their files are judged here. */
  roots: string[];
  errors: FleetError[];
}

const NONE: KustomizeChanges = { changed: [], removed: [], roots: [], errors: [] };

/** Layer folders relative to the repo's top (layers outside the repo are left out). */
function layerDirs(fleet: Fleet, top: string): { layer: FleetLayer; rel: string }[] {
  return fleet.layers.map((layer) => ({ layer, rel: relative(top, resolve(layer.dir)) })).filter((l) => !l.rel.startsWith('..'));
}

const within = (path: string, dir: string) => dir === '' || path === dir || path.startsWith(dir + '/');

/**
 * Kustomization roots in a tree's file list, as loadLayer finds them: per layer (the deepest layer holding the
 * folder), the first folder on the way down that has a kustomization; nothing under it is a root of its own.
 */
export function kustomizeRoots(files: readonly string[], layers: readonly { layer: FleetLayer; rel: string }[]): Map<string, FleetLayer> {
  const dirs = new Set(files.filter((f) => KUSTOMIZATION_FILES.includes(f.slice(f.lastIndexOf('/') + 1))).map((f) => (f.includes('/') ? dirname(f) : '')));
  const roots = new Map<string, FleetLayer>();
  for (const d of dirs) {
    const owner = layers.filter((l) => within(d, l.rel)).sort((a, b) => b.rel.length - a.rel.length)[0];
    if (!owner) continue;
    if (d.split('/').some((seg) => seg.startsWith('.') || seg === 'node_modules')) continue;
    const shadowed = [...dirs].some((o) => o !== d && within(d, o) && within(o, owner.rel));
    if (!shadowed) roots.set(d, owner.layer);
  }
  return roots;
}

function canonical(v: unknown): string {
  const sort = (x: unknown): unknown =>
    Array.isArray(x) ? x.map(sort) : x && typeof x === 'object' ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])])) : x;
  return JSON.stringify(sort(v));
}

async function render(tree: string | null, root: string, errors: FleetError[], kubectl?: string): Promise<Map<string, KubeObject>> {
  const out = new Map<string, KubeObject>();
  if (!tree) return out;
  for (const o of await renderKustomize(join(tree, ...root.split('/')), errors, kubectl)) out.set(resourceKey(refOf(o)), o);
  return out;
}

export async function kustomizeChanges(fleet: Fleet, info: CommitInfo, opts: { kubectl?: string } = {}): Promise<KustomizeChanges> {
  const layers = layerDirs(fleet, info.top);
  const parent = await parentOf(info.top, info.sha);
  const now = kustomizeRoots(await filesAt(info.top, info.sha), layers);
  const before = parent ? kustomizeRoots(await filesAt(info.top, parent), layers) : new Map<string, FleetLayer>();
  if (!now.size && !before.size) return NONE;
  const roots = [...new Set([...now.keys(), ...before.keys()])].sort();
  // Only roots holding a file the commit touched, or fed from outside their folder, can change: render those that
  // hold one, and any root whose kustomization reaches outside (a file outside every root changed).
  const touched = info.files.map((f) => f.path);
  const outside = touched.some((p) => !roots.some((r) => within(p, r)));
  const candidates = roots.filter((r) => outside || touched.some((p) => within(p, r)));
  if (!candidates.length) return { ...NONE, roots };

  const work = await mkdtemp(join(tmpdir(), 'fleetgate-converge-'));
  try {
    const newTree = join(work, 'new');
    const oldTree = parent ? join(work, 'old') : null;
    await mkdir(newTree);
    await extractTree(info.top, info.sha, newTree);
    if (oldTree && parent) {
      await mkdir(oldTree);
      await extractTree(info.top, parent, oldTree);
    }
    const errors: FleetError[] = [];
    const changed: KustomizeChanges['changed'] = [];
    const removed: KustomizeChanges['removed'] = [];
    for (const root of candidates) {
      const after = now.has(root) ? await render(newTree, root, errors, opts.kubectl) : new Map<string, KubeObject>();
      const prior = before.has(root) ? await render(oldTree, root, errors, opts.kubectl) : new Map<string, KubeObject>();
      const layer = now.get(root) ?? before.get(root)!;
      const file = `${root || '.'}/`;
      for (const [key, o] of after) {
        const was = prior.get(key);
        if (!was || canonical(was) !== canonical(o)) changed.push({ key, file, layer });
      }
      for (const key of prior.keys()) if (!after.has(key)) removed.push({ file, resource: describeKey(key) });
    }
    // Paths in errors point into the temporary trees: say them relative to the repo.
    for (const e of errors) e.file = oldTree && relative(newTree, e.file).startsWith('..') ? `${relative(oldTree, e.file)} (before the commit)` : relative(newTree, e.file);
    return { changed, removed, roots, errors };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
