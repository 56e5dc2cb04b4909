import t from 'tap';
import { ClusterReadError, mapWithConcurrency, readLiveCluster } from '../../../scanner/live/index.js';
import { sampleObjects, SCAN_KINDS, type ClusterFaults } from '../../../testkit/api-double.js';
import { canonical, fixture, FAST_RETRY } from '../../helpers/api-fixtures.js';

/**
 * 20 clusters read 4 at a time. Two (10%) are broken beyond recovery (one hangs forever, one answers 500 forever),
 * five more have recoverable faults. Every other cluster must come out identical to a clean run of the same fleet,
 * and each broken one must say what went wrong.
 */
const N = 20;
const CONCURRENCY = 4;

const broken: Record<string, ClusterFaults> = {
  c03: { hang: true },
  c11: { serverErrors: 1_000_000 },
};
const bumpy: Record<string, ClusterFaults> = {
  c01: { tooManyRequests: 2, retryAfterSeconds: 0.01 },
  c05: { resetMidBody: 2 },
  c08: { goneOnContinue: 1 },
  c14: { truncatedJson: 2 },
  c17: { serverErrors: 2, faultOn: 'all' },
};

type Outcome = { name: string; status: 'ok'; objects: string; warnings: string[] } | { name: string; status: 'unreachable' | 'error'; error: string };

async function scan(withFaults: boolean): Promise<Outcome[]> {
  const fx = await fixture();
  try {
    const names = Array.from({ length: N }, (_, i) => `c${String(i).padStart(2, '0')}`);
    const kubeconfigs = names.map((name, i) =>
      fx.cluster(name, {
        objects: sampleObjects({ namespaces: 1 + (i % 4), podsPerNamespace: 1 + (i % 3) }),
        faults: withFaults ? { ...(broken[name] ?? bumpy[name] ?? {}) } : {},
      }),
    );
    let inFlight = 0;
    let maxInFlight = 0;
    const out = await mapWithConcurrency(names, CONCURRENCY, async (name, i): Promise<Outcome> => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const r = await readLiveCluster({ kubeconfig: kubeconfigs[i], kinds: SCAN_KINDS, pageSize: 3, timeoutMs: 5_000, retry: FAST_RETRY });
        return { name, status: 'ok', objects: canonical(r), warnings: r.warnings };
      } catch (err) {
        if (!(err instanceof ClusterReadError)) throw err;
        return { name, status: err.status, error: err.message };
      } finally {
        inFlight--;
      }
    });
    if (maxInFlight > CONCURRENCY) throw new Error(`concurrency exceeded: ${maxInFlight}`);
    return out;
  } finally {
    await fx.close();
  }
}

t.test('a fleet where 10% of clusters misbehave: the others are identical to a clean run', async (t) => {
  const clean = await scan(false);
  const faulty = await scan(true);
  t.ok(clean.every((c) => c.status === 'ok'), 'clean run: every cluster ok');
  for (let i = 0; i < N; i++) {
    const c = clean[i];
    const f = faulty[i];
    if (broken[f.name]) continue;
    t.same(f, c, `${f.name} identical to the clean run`);
  }
  const hang = faulty.find((c) => c.name === 'c03')!;
  t.match(hang, { status: 'unreachable', error: /^timed out after 5s / });
  const e500 = faulty.find((c) => c.name === 'c11')!;
  t.match(e500, { status: 'error', error: /^server error 500: .*gave up after 5 attempts/ });
});
