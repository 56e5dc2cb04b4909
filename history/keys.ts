import * as crypto from 'node:crypto';
import { groupOf, type Finding, type ResourceRef } from '../src/index.js';

/** How the store names objects and findings; both are kept stable across releases (stores in the field use them). */

/** `group/Kind/namespace/name`: the version of an apiVersion is left out, so an API upgrade keeps fingerprints. */
export function resourceKey(r: ResourceRef): string {
  return `${groupOf(r.apiVersion)}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
}

/** Stable across runs: the same policy on the same field of the same object in the same cluster. */
export function fingerprint(cluster: string, f: Pick<Finding, 'policy' | 'resource' | 'path'>): string {
  return storedFingerprint(cluster, f.policy, resourceKey(f.resource), f.path);
}

// A run hashes every finding it writes (~950,000 on the benchmark fleet): crypto.hash (Node ≥ 20.12) is about four
// times faster than createHash for strings this short, and gives the same digest.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;
const sha256 = oneShot ? (s: string) => oneShot('sha256', s, 'hex') : (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** Keys are below 2^51: exact as a JS number and as a 64-bit integer on both engines. */
export const KEY_SPACE = 2 ** 51;

/**
 * The store's compact key of a finding (schema 4): 51 bits of a 64-bit multiply-xor hash of the same identity the
 * fingerprint hashes (policy, cluster, resource key, path). A run computes it for every finding it writes; the
 * SHA-256 fingerprint only for the findings whose facts it stores. The hash is not collision-free: a store keeps
 * each key for one finding (findings.key is its primary key), and a finding whose key is taken by another is given
 * the next free one and listed in `key_collisions` (facts.ts). Never change it: stores in the field hold its values.
 */
export function findingKey(cluster: string, policy: string, resource: string, path: string): number {
  let h1 = 0xdeadbeef | 0;
  let h2 = 0x41c6ce57 | 0;
  const parts = [policy, cluster, resource, path];
  for (let p = 0; p < 4; p++) {
    const s = parts[p];
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x9e3779b1);
      h2 = Math.imul(h2 ^ c, 0x5f356495);
    }
    h1 = Math.imul(h1 ^ 10, 0x9e3779b1);
    h2 = Math.imul(h2 ^ 10, 0x5f356495);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b) ^ Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0x85ebca6b) ^ Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35);
  return (h2 & 0x7ffff) * 4294967296 + (h1 >>> 0);
}

/** Hash state of findingKeyOf, so that its loop runs on locals (a closure's variables would be context slots). */
const H = new Int32Array(2);

function feed(s: string, end: number): void {
  let h1 = H[0];
  let h2 = H[1];
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x9e3779b1);
    h2 = Math.imul(h2 ^ c, 0x5f356495);
  }
  H[0] = h1;
  H[1] = h2;
}

const sep = (c: number) => {
  H[0] = Math.imul(H[0] ^ c, 0x9e3779b1);
  H[1] = Math.imul(H[1] ^ c, 0x5f356495);
};

/**
 * findingKey(cluster, f.policy, resourceKey(f.resource), f.path), without building the resource key: the hash reads
 * the same characters (`group/Kind/namespace/name`) from the reference's fields. What a run computes per finding.
 */
export function findingKeyOf(cluster: string, f: Pick<Finding, 'policy' | 'resource' | 'path'>): number {
  H[0] = 0xdeadbeef | 0;
  H[1] = 0x41c6ce57 | 0;
  feed(f.policy, f.policy.length);
  sep(10);
  feed(cluster, cluster.length);
  sep(10);
  const r = f.resource;
  const av = r.apiVersion ?? '';
  const slash = av.indexOf('/');
  if (slash > 0) feed(av, slash);
  sep(47);
  feed(r.kind, r.kind.length);
  sep(47);
  const ns = r.namespace ?? '';
  feed(ns, ns.length);
  sep(47);
  feed(r.name, r.name.length);
  sep(10);
  feed(f.path, f.path.length);
  sep(10);
  let h1 = H[0];
  let h2 = H[1];
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b) ^ Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0x85ebca6b) ^ Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35);
  return (h2 & 0x7ffff) * 4294967296 + (h1 >>> 0);
}

/** Two findings name the same thing (policy, resource without its API version, path): duplicates, not a collision. */
export function sameIdentity(a: Pick<Finding, 'policy' | 'resource' | 'path'>, b: Pick<Finding, 'policy' | 'resource' | 'path'>): boolean {
  const x = a.resource;
  const y = b.resource;
  return (
    a.policy === b.policy &&
    a.path === b.path &&
    x.name === y.name &&
    x.kind === y.kind &&
    (x.namespace ?? '') === (y.namespace ?? '') &&
    (x.apiVersion === y.apiVersion || groupOf(x.apiVersion) === groupOf(y.apiVersion))
  );
}

/** The fingerprint of a stored finding (its facts as `findings` holds them: the resource as resourceKey). */
export function storedFingerprint(cluster: string, policy: string, resource: string, path: string): string {
  return sha256(`${policy}\n${cluster}\n${resource}\n${path}`).slice(0, 16);
}
