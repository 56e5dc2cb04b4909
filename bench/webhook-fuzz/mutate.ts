/**
 * Seeded mutations of real AdmissionReviews for fuzzing `POST /validate`. Shared by the short CI run
 * (test/webhook/fuzz.test.ts) and the long run (bench/webhook-fuzz/run.ts). Everything is a pure function of the seed.
 */

/** Values planted in Secrets and headers; no log line may ever contain one. */
export const PLANTED = {
  data: 'cGxhbnRlZC1zZWNyZXQtZGF0YS03YjJm', // base64 of "planted-secret-data-7b2f"
  dataDecoded: 'planted-secret-data-7b2f',
  stringData: 'planted-string-data-91ce',
  bearer: 'planted-bearer-4d1a8e',
} as const;

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface FuzzInput {
  /** What was done, for failure reports. */
  label: string;
  body: string | Buffer;
  contentType?: string;
  /** The uid to expect back on a 200 when the mutation left it alone. */
  uid?: string;
  /** Transport-level variants (real sockets only). */
  transport?: 'truncate-close' | 'slow-body' | 'lying-length';
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

// Long: a table of the seed reviews the fuzzer mutates; each object is read best where it is used.
export function baseReviews(uid: string): Record<string, Json>[] {
  const req = (object: Json, extra: Record<string, Json> = {}) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: (object as { kind?: string })?.kind ?? 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      name: 'x',
      namespace: 'shop',
      operation: 'CREATE',
      userInfo: { username: 'alice', uid: 'u-1', groups: ['system:authenticated'], extra: { 'scopes.example': ['a'] } },
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
      ...extra,
    },
  });
  const pod: Json = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'x', namespace: 'shop', labels: { app: 'x' }, annotations: { note: 'n' } },
    spec: {
      hostPID: true,
      hostNetwork: false,
      containers: [{ name: 'a', image: 'busybox', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1', memory: '1Gi' } }, securityContext: { privileged: false } }],
      initContainers: [{ name: 'i', image: 'busybox' }],
      volumes: [{ name: 'v', hostPath: { path: '/' } }],
    },
  };
  const deployment: Json = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', namespace: 'shop' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'a', image: 'a:1' }] } } },
  };
  const secret: Json = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'db', namespace: 'shop' },
    type: 'Opaque',
    data: { password: PLANTED.data },
    stringData: { token: PLANTED.stringData },
  };
  const serviceEntry: Json = {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'ServiceEntry',
    metadata: { name: 'x', namespace: 'shop' },
    spec: { hosts: ['a.svc.cluster.global'], endpoints: [{ address: 'a', locality: 'us-east-1/x' }, { address: 'b' }] },
  };
  const ns: Json = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'fleetgate.io/data-classification': 'personal' } } };
  return [
    req(pod),
    req(deployment),
    req(secret),
    req(serviceEntry),
    req(ns, { namespace: '' }),
    req(deployment, { operation: 'UPDATE', oldObject: deployment }),
    req(null, { operation: 'DELETE', oldObject: secret }),
  ];
}

function deep(levels: number, key: string): string {
  return `${`{"${key}":`.repeat(levels)}1${'}'.repeat(levels)}`;
}

const WEIRD_STRINGS = [
  '',
  ' ',
  '\u0000\u0001\u0002\u001b[31m',
  '\u202e\u200b\ufeff',
  '😀'.repeat(50),
  '\ud800', // lone surrogate
  'a'.repeat(70_000),
  '../../etc/passwd',
  '${jndi:ldap://x}',
  '{{ .Values }}',
  '123',
  '-1e309',
  'true',
  'null',
  'CREATE\n',
  '__proto__',
];

function weirdValue(r: () => number): Json {
  switch (Math.floor(r() * 14)) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return pick(r, [0, -1, 1e308, -0, 2 ** 53 + 1, 0.1]);
    case 3:
      return pick(r, WEIRD_STRINGS);
    case 4:
      return [];
    case 5:
      return {};
    case 6:
      return Array.from({ length: 1000 + Math.floor(r() * 20_000) }, (_, i) => i);
    case 7:
      return Array.from({ length: 200 }, () => ({ name: pick(r, WEIRD_STRINGS), image: 5 }));
    case 8:
      return JSON.parse('{"__proto__": {"polluted": "yes", "allowed": true}, "constructor": {"prototype": {"polluted": "yes"}}}');
    case 9:
      return { prototype: { allowed: true }, constructor: 'x', hasOwnProperty: 1, toString: 'x', valueOf: null };
    case 10:
      return String(Math.floor(r() * 1000)); // numbers as strings
    case 11:
      return [[[[[[]]]]]];
    case 12:
      return { '': '', '\u0000': 1, 'a.b/c': { '$': 'x' } };
    default:
      return pick(r, ['CREATE', 'DELETE', 'admission.k8s.io/v1beta1', 'AdmissionReview', 'Pod']);
  }
}

/** Every [path, container] in a JSON value, bounded. */
function paths(v: Json, out: (string | number)[][] = [], prefix: (string | number)[] = []): (string | number)[][] {
  if (out.length > 400 || v === null || typeof v !== 'object') return out;
  for (const [k, child] of Object.entries(v)) {
    const p = [...prefix, Array.isArray(v) ? Number(k) : k];
    out.push(p);
    paths(child as Json, out, p);
  }
  return out;
}

function setAt(root: Json, path: (string | number)[], value: Json | undefined): void {
  let cur = root as Record<string, Json>;
  for (const seg of path.slice(0, -1)) cur = cur[seg as string] as Record<string, Json>;
  const last = path[path.length - 1] as string;
  if (value === undefined) delete cur[last];
  else Object.defineProperty(cur, last, { value, enumerable: true, writable: true, configurable: true });
}

/** The i-th fuzz input of a seeded run. */
export function fuzzInput(seed: number, i: number, opts: { transport?: boolean } = {}): FuzzInput {
  const r = rng(seed * 1_000_003 + i);
  const uid = `fuzz-${seed}-${i}`;
  const bases = baseReviews(uid);
  const base = structuredClone(pick(r, bases)) as Json;
  const roll = r();
  if (opts.transport && roll < 0.02) return { label: 'slow body', body: JSON.stringify(base), transport: 'slow-body', uid };
  if (opts.transport && roll < 0.04) return { label: 'truncated then closed', body: JSON.stringify(base), transport: 'truncate-close', uid };
  if (opts.transport && roll < 0.06) return { label: 'Content-Length larger than the body', body: JSON.stringify(base), transport: 'lying-length', uid };
  if (roll < 0.08) {
    const s = JSON.stringify(base);
    return { label: 'truncated body', body: s.slice(0, Math.floor(r() * s.length)) };
  }
  if (roll < 0.11)
    return {
      label: 'wrong content type',
      body: JSON.stringify(base),
      contentType: pick(r, ['text/plain', 'application/x-www-form-urlencoded', 'application/yaml', 'multipart/form-data; boundary=x', '', 'application/json; charset=latin1', 'application/jsonx']),
    };
  if (roll < 0.13) return { label: 'deep nesting 10,000 levels', body: JSON.stringify(base).replace(/"spec":/, `"deep":${deep(10_000, pick(r, ['a', '__proto__', 'constructor']))},"spec":`), uid };
  if (roll < 0.14) return { label: 'deep array nesting 100,000', body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":${'['.repeat(100_000)}${']'.repeat(100_000)}}` };
  if (roll < 0.15) return { label: 'oversized body', body: JSON.stringify({ ...(base as object), pad: 'x'.repeat(3 * 1024 * 1024 + 10) }) };
  if (roll < 0.17) return { label: 'not JSON at all', body: Buffer.from(Array.from({ length: 64 }, () => Math.floor(r() * 256))) };
  if (roll < 0.19) return { label: 'JSON but not an object', body: JSON.stringify(pick(r, [null, 1, 'x', [], [base], true])) };
  if (roll < 0.22) {
    const req = (base as { request: Record<string, Json> }).request;
    const what = pick(r, ['object-null', 'object-missing', 'request-null', 'request-missing', 'v1beta1', 'uid-number', 'operation-lower']);
    if (what === 'object-null') req.object = null;
    if (what === 'object-missing') delete req.object;
    if (what === 'request-null') (base as Record<string, Json>).request = null;
    if (what === 'request-missing') delete (base as Record<string, Json>).request;
    if (what === 'v1beta1') (base as Record<string, Json>).apiVersion = 'admission.k8s.io/v1beta1';
    if (what === 'uid-number') req.uid = 42;
    if (what === 'operation-lower') req.operation = 'create';
    return { label: what, body: JSON.stringify(base) };
  }
  // Structural mutations: 1–4 fields replaced with wrong types or removed, anywhere in the review.
  const n = 1 + Math.floor(r() * 4);
  const labels: string[] = [];
  for (let k = 0; k < n; k++) {
    const ps = paths(base);
    if (!ps.length) break;
    const p = pick(r, ps);
    const remove = r() < 0.15;
    setAt(base, p, remove ? undefined : weirdValue(r));
    labels.push(`${remove ? 'remove' : 'replace'} ${p.join('.')}`);
  }
  const uidKept = (base as { request?: { uid?: unknown } })?.request?.uid === uid;
  return { label: labels.join('; '), body: JSON.stringify(base), uid: uidKept ? uid : undefined };
}

/** Judges one answer: a verdict (200 with the same uid), 400 or 413. Returns a problem or undefined. */
export function judge(input: FuzzInput, status: number, text: string): string | undefined {
  if (status === 400 || status === 413) return undefined;
  if (status !== 200) return `status ${status}`;
  let body: { response?: { uid?: unknown; allowed?: unknown } };
  try {
    body = JSON.parse(text);
  } catch {
    return '200 with a body that is not JSON';
  }
  if (typeof body.response?.allowed !== 'boolean') return '200 without response.allowed';
  if (input.uid && body.response.uid !== input.uid) return `uid ${String(body.response.uid)} instead of ${input.uid}`;
  return undefined;
}
