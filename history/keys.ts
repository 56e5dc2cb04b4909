import * as crypto from 'node:crypto';
import { groupOf, type Finding, type ResourceRef } from '../src/index.js';

/** How the store names objects and findings; both are kept stable across releases (stores in the field use them). */

/** `group/Kind/namespace/name`: the version of an apiVersion is left out, so an API upgrade keeps fingerprints. */
export function resourceKey(r: ResourceRef): string {
  return `${groupOf(r.apiVersion)}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
}

/** Stable across runs: the same policy on the same field of the same object in the same cluster. */
export function fingerprint(cluster: string, f: Pick<Finding, 'policy' | 'resource' | 'path'>): string {
  return sha256(`${f.policy}\n${cluster}\n${resourceKey(f.resource)}\n${f.path}`).slice(0, 16);
}

// A run hashes every finding it writes (~950,000 on the benchmark fleet): crypto.hash (Node ≥ 20.12) is about four
// times faster than createHash for strings this short, and gives the same digest.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;
const sha256 = oneShot ? (s: string) => oneShot('sha256', s, 'hex') : (s: string) => crypto.createHash('sha256').update(s).digest('hex');
