/**
 * Shares equal values between the fleet rules' per-cluster indexes (fleet-rules.ts). Clusters rolled out from one
 * config repo hold mostly the same objects: a Service or a ServiceEntry is, once the server's own fields are gone,
 * the same on 10,000 clusters and is kept once. Bottom-up: strings, then every array and object whose children are
 * already shared. Found by a hash of its JSON and confirmed by comparing the JSON (no key text is kept).
 * Shared values are frozen by the fleet evaluation and must never be changed.
 *
 * The tables are generational and bounded: a value that is unique to one cluster (a Namespace with the cluster's
 * own label) must not cost a table entry for the rest of the scan. When the current generation is full it becomes
 * the previous one and the one before is dropped; a value found in the previous generation moves to the current
 * one, so what every cluster has stays shared.
 */
export class Interner {
  private strings = new Map<string, string>();
  private oldStrings = new Map<string, string>();
  private nodes = new Map<number, object | Bucket>();
  private oldNodes = new Map<number, object | Bucket>();

  constructor(private readonly generation = 10_000) {}

  value<T>(v: T): T {
    if (typeof v === 'string') return this.string(v) as T;
    if (v === null || typeof v !== 'object') return v;
    const copy: object = Array.isArray(v)
      ? v.map((x) => this.value(x))
      : Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, this.value(x)]));
    const json = JSON.stringify(copy);
    const h = hash(json);
    const known = lookup(this.nodes, h, json) ?? lookup(this.oldNodes, h, json);
    const shared = known ?? copy;
    if (known === undefined || !lookup(this.nodes, h, json)) {
      const found = this.nodes.get(h);
      if (found === undefined) this.nodes.set(h, shared);
      else if (found instanceof Bucket) found.items.push(shared);
      else this.nodes.set(h, new Bucket([found, shared]));
      if (this.nodes.size >= this.generation) [this.oldNodes, this.nodes] = [this.nodes, new Map()];
    }
    return shared as T;
  }

  private string(s: string): string {
    const known = this.strings.get(s) ?? this.oldStrings.get(s);
    if (known !== undefined && this.strings.has(s)) return known;
    const shared = known ?? s;
    this.strings.set(shared, shared);
    if (this.strings.size >= this.generation) [this.oldStrings, this.strings] = [this.strings, new Map()];
    return shared;
  }
}

function lookup(table: Map<number, object | Bucket>, h: number, json: string): object | undefined {
  const found = table.get(h);
  if (found === undefined) return undefined;
  for (const c of found instanceof Bucket ? found.items : [found]) if (JSON.stringify(c) === json) return c;
  return undefined;
}

/** Values whose JSON hashes alike (rare). */
class Bucket {
  constructor(readonly items: object[]) {}
}

/** cyrb53: a fast 53-bit string hash (not cryptographic: equality is confirmed on the JSON). */
function hash(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
