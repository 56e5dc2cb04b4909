import t from 'tap';
import { ClusterReadError, readLiveCluster, type LiveReadOptions } from '../../../scanner/live/index.js';
import { closedPort, sampleObjects, SCAN_KINDS, type ClusterFaults } from '../../../testkit/api-double.js';
import { canonical, fixture, FAST_RETRY } from '../../helpers/api-fixtures.js';

const objects = sampleObjects({ namespaces: 3, podsPerNamespace: 3 });
const base: Omit<LiveReadOptions, 'kubeconfig'> = { kinds: SCAN_KINDS, pageSize: 2, retry: FAST_RETRY, timeoutMs: 10_000 };

async function failure(p: Promise<unknown>): Promise<ClusterReadError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ClusterReadError) return err;
    throw err;
  }
  throw new Error('the read did not fail');
}

t.test('recovering faults give the full, identical object set', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const clean = await readLiveCluster({ ...base, kubeconfig: fx.cluster('clean', { objects }) });
  t.equal(clean.objects.length, objects.filter((o) => o.kind !== 'Secret').length);

  const cases: [string, ClusterFaults, (s: { retries: number; listRestarts: number }) => boolean][] = [
    ['410 Gone on a continue token (list restarts)', { goneOnContinue: 2 }, (s) => s.listRestarts === 2],
    ['429 with Retry-After, 3 times', { tooManyRequests: 3, retryAfterSeconds: 0.01 }, (s) => s.retries === 3],
    ['500, 3 times', { serverErrors: 3 }, (s) => s.retries === 3],
    ['500 on discovery too', { serverErrors: 2, faultOn: 'all' }, (s) => s.retries === 2],
    ['connection reset mid-body, 3 times', { resetMidBody: 3 }, (s) => s.retries === 3],
    ['truncated JSON, 3 times', { truncatedJson: 3 }, (s) => s.retries === 3],
    ['connection dropped before the answer, 3 times', { dropConnection: 3 }, (s) => s.retries === 3],
    ['every fault at once', { goneOnContinue: 1, tooManyRequests: 1, retryAfterSeconds: 0, serverErrors: 1, resetMidBody: 1, truncatedJson: 1, dropConnection: 1 }, (s) => s.retries >= 5],
    ['latency on every request', { latencyMs: 20 }, (s) => s.retries === 0],
  ];
  let i = 0;
  for (const [name, faults, statsOk] of cases) {
    const cname = `c${i++}`;
    const kc = fx.cluster(cname, { objects, faults });
    const r = await readLiveCluster({ ...base, kubeconfig: kc });
    t.equal(canonical(r), canonical(clean), `${name}: identical objects`);
    t.same(r.warnings, [], `${name}: no warnings`);
    t.ok(statsOk(r.stats!), `${name}: stats ${JSON.stringify(r.stats)}`);
    const injected = fx.api.cluster(cname).requests.filter((q) => q.fault).length;
    if (name !== 'latency on every request') t.ok(injected > 0, `${name}: ${injected} faults injected`);
  }
});

t.test('Retry-After is honoured (capped by maxRetryAfterMs)', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  // a Retry-After of an hour, capped to 50 ms: the read still completes well inside its budget
  const kc = fx.cluster('ra', { objects, faults: { tooManyRequests: 2, retryAfterSeconds: 3600 } });
  const r = await readLiveCluster({ ...base, kubeconfig: kc, retry: { ...FAST_RETRY, maxRetryAfterMs: 50 } });
  t.equal(r.stats?.retries, 2);
  t.equal(r.objects.length, objects.filter((o) => o.kind !== 'Secret').length);
});

t.test('fatal faults give the right status and reason', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);

  const e500 = await failure(readLiveCluster({ ...base, kubeconfig: fx.cluster('e500', { objects, faults: { serverErrors: 1000 } }) }));
  t.equal(e500.status, 'error');
  t.match(e500.message, /^server error 500: Internal error occurred: etcdserver: request timed out — gave up after 5 attempts listing \S+ \S+$/);

  const e429 = await failure(readLiveCluster({ ...base, kubeconfig: fx.cluster('e429', { objects, faults: { tooManyRequests: 1000, retryAfterSeconds: 0 } }) }));
  t.equal(e429.status, 'error');
  t.match(e429.message, /too many requests \(429\).*gave up after 5 attempts listing/);

  const reset = await failure(readLiveCluster({ ...base, kubeconfig: fx.cluster('reset', { objects, faults: { resetMidBody: 1000 } }) }));
  t.equal(reset.status, 'unreachable');
  t.match(reset.message, /connection (reset|closed).*gave up after 5 attempts listing/);

  const trunc = await failure(readLiveCluster({ ...base, kubeconfig: fx.cluster('trunc', { objects, faults: { truncatedJson: 1000 } }) }));
  t.equal(trunc.status, 'error');
  t.match(trunc.message, /not valid JSON.*gave up after 5 attempts listing/);

  const gone = await failure(readLiveCluster({ ...base, kubeconfig: fx.cluster('gone', { objects, faults: { goneOnContinue: 1000 } }) }));
  t.equal(gone.status, 'error');
  t.match(gone.message, /^listing \S+ \S+: the continue token kept expiring \(410 Gone\); gave up after 4 attempts at the list$/);

  const unauth = await failure(readLiveCluster({ ...base, kubeconfig: fx.cluster('unauth', { objects, faults: { unauthorized: true } }) }));
  t.equal(unauth.status, 'error');
  t.match(unauth.message, /^unauthorized: check the kubeconfig's credentials/);

  const wrongToken = await failure(readLiveCluster({ ...base, kubeconfig: fx.cluster('wrong', { objects }, { token: 'not-the-right-token-000' }) }));
  t.equal(wrongToken.status, 'error');
  t.match(wrongToken.message, /^unauthorized/);
  t.notMatch(wrongToken.message, 'not-the-right-token-000');
});

t.test('the cluster budget: a hanging or endlessly slow server times out as unreachable, naming what it was doing', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const hang = await failure(readLiveCluster({ ...base, timeoutMs: 300, kubeconfig: fx.cluster('hang', { objects, faults: { hang: true } }) }));
  t.equal(hang.status, 'unreachable');
  t.equal(hang.message, 'timed out after 0.3s reading API discovery /api');

  const slowKc = fx.cluster('slow', { objects });
  const slow = fx.api.cluster('slow');
  // discovery answers normally, then the lists answer forever slowly (one byte every 20 ms)
  const p = readLiveCluster({ ...base, timeoutMs: 400, kubeconfig: slowKc, listConcurrency: 1, kinds: [{ apiVersion: 'apps/v1', kind: 'Deployment' }] });
  slow.faults.drip = 20;
  slow.faults.faultOn = 'list';
  const slowErr = await failure(p);
  t.equal(slowErr.status, 'unreachable');
  t.match(slowErr.message, /^timed out after 0\.4s (listing apps\/v1 deployments|reading API discovery \S+)$/);

  const drip = await failure(readLiveCluster({ ...base, timeoutMs: 300, kubeconfig: fx.cluster('drip', { objects, faults: { drip: 10 } }) }));
  t.equal(drip.status, 'unreachable');
  t.match(drip.message, /^timed out after 0\.3s /);
});

t.test('connection refused, untrusted TLS, missing kubeconfig or context', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const port = await closedPort();
  const refused = await failure(readLiveCluster({ ...base, kubeconfig: fx.cluster('refused', {}, { server: `https://127.0.0.1:${port}` }) }));
  t.equal(refused.status, 'unreachable');
  t.match(refused.message, /^connection refused \(reading API discovery \/api(s)?\)$/);

  const tls = await failure(readLiveCluster({ ...base, kubeconfig: fx.cluster('tls', { objects }, { omitCa: true }) }));
  t.equal(tls.status, 'unreachable');
  t.match(tls.message, /^TLS error: the server's certificate is not trusted/);

  const missing = await failure(readLiveCluster({ ...base, kubeconfig: `${fx.dir}/nope.kubeconfig` }));
  t.equal(missing.status, 'error');
  t.match(missing.message, /kubeconfig .*nope\.kubeconfig not found/);

  const ctx = await failure(readLiveCluster({ ...base, kubeconfig: fx.cluster('ctx', { objects }), context: 'elsewhere' }));
  t.equal(ctx.status, 'error');
  t.match(ctx.message, /context "elsewhere" is not in kubeconfig/);
});

t.test('an abort signal cancels the read', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const ac = new AbortController();
  const p = readLiveCluster({ ...base, signal: ac.signal, kubeconfig: fx.cluster('cancel', { objects, faults: { hang: true } }) });
  setTimeout(() => ac.abort(), 50);
  const err = await failure(p);
  t.equal(err.message, 'read cancelled');
});

t.test('a read leaves no connection open, whether it succeeds or fails', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const settled = async () => {
    // closing is asynchronous on the server side: wait (bounded) for the count to drop
    for (let i = 0; i < 200 && fx.api.openConnections() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    return fx.api.openConnections();
  };
  await readLiveCluster({ ...base, kubeconfig: fx.cluster('ok', { objects }) });
  t.equal(await settled(), 0, 'after a successful read');
  await failure(readLiveCluster({ ...base, kubeconfig: fx.cluster('401', { objects, faults: { unauthorized: true } }) }));
  t.equal(await settled(), 0, 'after 401 during parallel discovery');
  await failure(readLiveCluster({ ...base, kubeconfig: fx.cluster('e500', { objects, faults: { serverErrors: 1000 } }) }));
  t.equal(await settled(), 0, 'after a failed list with others in flight');
  await failure(readLiveCluster({ ...base, timeoutMs: 200, kubeconfig: fx.cluster('hang', { objects, faults: { hang: true } }) }));
  t.equal(await settled(), 0, 'after a timeout on a hanging server');
});
