/**
 * The API double and the event generator of bench/watch-bench.ts, in a process of their own (forked by the bench,
 * one or more: `--doubles K` spreads the clusters and the rate over K of them), so that the watch is what is
 * measured, not a generator starved of CPU beside it. Driven over IPC:
 *
 *   → { op: 'start', names, mine, dir, http2 }         ← { op: 'ready', kubeconfigs: {name: path}, objects }
 *   → { op: 'load', rate }                               (MODIFIED pod events at `rate`/s from now on)
 *   → { op: 'quiet' }                                    (no more of them)
 *   → { op: 'probe', cluster, kind: 'drift' | 'fleet', want, i }   (applied at once)
 *                                                        ← { op: 'probed', i, at }   (at: epoch ms when applied)
 *   → { op: 'stats' }                                    ← { op: 'stats', sent, seconds, streams, connections,
 *                                                            loopP99Ms, loopMaxMs }  (this process's event-loop delay)
 *   → { op: 'stop' }                                     (closes the double, exits)
 */
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { KubeObject } from '../src/index.js';
import { sampleObjects, startApiDouble, type ApiDouble } from '../testkit/api-double.js';
import { attachWatch, type WatchDouble } from '../testkit/api-watch.js';

export type LoadMessage =
  | { op: 'start'; names: string[]; mine: string[]; dir: string; http2: boolean }
  | { op: 'load'; rate: number }
  | { op: 'quiet' }
  | { op: 'probe'; cluster: string; kind: 'drift' | 'fleet'; want: 0 | 1; i: number }
  | { op: 'stats' }
  | { op: 'stop' };

/**
 * ~530 objects: 24 tenant namespaces of 7 objects + 13 pods each, plus the system ones, and per tenant a Service
 * and a federated ServiceEntry whose endpoint names the next cluster of the fleet (which runs that Service): the
 * fleet rules have a mesh to judge, and in sync it has no finding.
 */
export const objectsFor = (next: string): KubeObject[] => [
  ...sampleObjects({ namespaces: 24, podsPerNamespace: 13 }),
  ...Array.from({ length: 24 }, (_, t) => {
    const ns = `tenant-${String(t).padStart(2, '0')}`;
    return [{ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${t}`, namespace: ns }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } }, serviceEntry(ns, t, next)];
  }).flat(),
];

export function serviceEntry(ns: string, t: number, cluster: string): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'ServiceEntry',
    metadata: { name: `svc-${t}-global`, namespace: ns },
    spec: { hosts: [`svc-${t}.${ns}.svc.cluster.global`], location: 'MESH_INTERNAL', resolution: 'DNS', ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: `svc-${t}.${ns}.${cluster}.mesh`, locality: `europe/${cluster}`, labels: { cluster } }] },
  };
}

/** The desired state of the bench's repo: what objectsFor declares of the kinds a config repo holds. */
export const desiredObjects = () => objectsFor('none').filter((o) => ['Namespace', 'ResourceQuota', 'NetworkPolicy', 'Deployment'].includes(o.kind!));

interface Loaded {
  api: ApiDouble;
  w: WatchDouble;
  names: string[];
  mine: string[];
  rate: number;
  sent: number;
  since: number;
  timer?: NodeJS.Timeout;
}

async function start(m: Extract<LoadMessage, { op: 'start' }>): Promise<Loaded> {
  const api = await startApiDouble({ http2: m.http2 });
  // ~3 minutes of each cluster's events at 1,000/s over 847 clusters: enough for a resume after a drop or a timeout
  // (both resume within seconds), and the double's heap stays bounded (2,000 per cluster grew it by ~1 KB an event)
  const w = attachWatch(api, { logSize: 200 });
  const kubeconfigs: Record<string, string> = {};
  for (const n of m.mine) {
    const i = m.names.indexOf(n);
    api.addCluster(n, { objects: objectsFor(m.names[(i + 1) % m.names.length]) });
    kubeconfigs[n] = api.writeKubeconfig(join(m.dir, `${n}.kubeconfig`), [n]);
    // bookmarks as kube-apiserver sends them: without, a kind with no events goes silent and its stream idles out
    w.faults(n).bookmarkMs = 30_000;
  }
  process.send!({ op: 'ready', kubeconfigs, objects: api.cluster(m.mine[0]).objects.length });
  return { api, w, names: m.names, mine: m.mine, rate: 0, sent: 0, since: performance.now() };
}

/** MODIFIED pod events (a label changed, each re-judged) at `rate`/s spread over this process's clusters. */
function generate(l: Loaded): void {
  const pods = new Map(l.mine.map((n) => [n, l.api.cluster(n).objects.filter((o) => o.kind === 'Pod')]));
  let seq = 0;
  const tickMs = 10;
  // paced on the clock, not on the tick count: a late tick catches up, so the rate asked for is the rate sent
  l.since = performance.now();
  l.timer = setInterval(() => {
    const due = Math.floor(((performance.now() - l.since) * l.rate) / 1000);
    for (; l.sent < due; l.sent++) {
      const n = l.mine[seq % l.mine.length];
      const list = pods.get(n)!;
      const base = list[Math.floor(seq / l.mine.length) % list.length];
      const p: KubeObject = { ...base, metadata: { ...base.metadata, labels: { ...base.metadata?.labels, 'bench/seq': String(seq++) } } };
      l.w.apply(n, 'MODIFIED', p);
    }
  }, tickMs);
}

/** A drift on the probe cluster (a desired Deployment's image set or undone), or its ServiceEntry pointed away or back. */
function probe(l: Loaded, m: Extract<LoadMessage, { op: 'probe' }>): void {
  if (m.kind === 'fleet') {
    l.w.apply(m.cluster, 'MODIFIED', serviceEntry('tenant-00', 0, m.want ? 'gone-cluster' : l.names[1 % l.names.length]));
    return;
  }
  const web = objectsFor('none').find((o) => o.kind === 'Deployment' && o.metadata?.namespace === 'tenant-00')!;
  const d = structuredClone(web) as KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } } };
  if (m.want) d.spec.template.spec.containers[0].image = `nginx:probe-${m.i}`;
  l.w.apply(m.cluster, 'MODIFIED', d);
}

/** How late this process's own event loop runs: a double that stalls delays the probes' events, not the watch. */
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

if (process.send) {
  let loaded: Loaded | undefined;
  process.on('message', (m: LoadMessage) => {
    void (async () => {
      if (m.op === 'start') loaded = await start(m);
      else if (m.op === 'load' && loaded) {
        loaded.rate = m.rate;
        loop.reset(); // the load phase's delays, not the sync's
        if (m.rate > 0) generate(loaded);
      } else if (m.op === 'quiet' && loaded) clearInterval(loaded.timer);
      else if (m.op === 'probe' && loaded) {
        probe(loaded, m);
        process.send!({ op: 'probed', i: m.i, at: performance.timeOrigin + performance.now() });
      }
      else if (m.op === 'stats' && loaded) {
        process.send!({ op: 'stats', sent: loaded.sent, seconds: (performance.now() - loaded.since) / 1000, streams: loaded.w.open(), connections: loaded.api.connectionsByProtocol(), loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6 });
      } else if (m.op === 'stop') {
        clearInterval(loaded?.timer);
        await loaded?.api.close();
        process.exit(0);
      }
    })();
  });
  process.on('disconnect', () => process.exit(0));
}
