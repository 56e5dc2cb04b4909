// Metrics with one meaning each (issue #16): reviews, per-policy results and times, latency by decision, cert expiry.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { loadPolicySet } from '../../src/loading/index.js';
import { parseExposition, sum } from '../helpers/prometheus.js';
import { builtinPolicies, compliantDeployment, hostPidPod, review, startServer, testPolicy } from '../helpers/webhook.js';

const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' }, data: { a: '1' } };

t.test('one review is one count: summing fleetgate_admission_requests_total never double-counts', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  // 2 denied Pods (each with several policies finding something), 3 allowed Deployments, 1 DELETE.
  for (const name of ['a', 'b']) await s.post(review(hostPidPod(name)));
  for (const name of ['x', 'y', 'z']) await s.post(review(compliantDeployment(name)));
  await s.post(review(null, { operation: 'DELETE', oldObject: hostPidPod('old'), namespace: 'shop' }));
  const samples = parseExposition((await s.get('/metrics')).text);
  const reviews = samples.filter((x) => x.name === 'fleetgate_admission_requests_total');
  t.equal(sum(samples, 'fleetgate_admission_requests_total'), 6, 'six reviews, six counts');
  t.ok(reviews.every((x) => !('policy' in x.labels)), 'no policy label on the per-review counter');
  t.equal(sum(samples, 'fleetgate_admission_requests_total', { decision: 'denied' }), 2);
  t.equal(sum(samples, 'fleetgate_admission_requests_total', { operation: 'DELETE', decision: 'allowed' }), 1);
  t.same([...new Set(reviews.map((x) => x.labels.decision))].sort(), ['allowed', 'denied']);
});

t.test('policy results by policy, action and result; every judged object once per policy', async (t) => {
  const boom = testPolicy('test.boom', 'warn', ['ConfigMap'], () => {
    throw new Error('kaput');
  });
  const picky = testPolicy('test.picky', 'audit', ['ConfigMap'], ({ object, report }) => {
    if (object.metadata.name === 'bad') {
      report('first');
      report('second'); // two findings, one failed evaluation
    }
  });
  const s = await startServer({ policies: [...builtinPolicies, boom, picky] });
  t.teardown(() => s.close());
  await s.post(review(hostPidPod('p1')));
  await s.post(review(compliantDeployment('d1')));
  await s.post(review(cm));
  await s.post(review({ ...cm, metadata: { name: 'bad', namespace: 'shop' } }));
  const samples = parseExposition((await s.get('/metrics')).text);
  const result = (policy: string, r: string) => sum(samples, 'fleetgate_policy_results_total', { policy, result: r });
  t.equal(result('isolation.no-host-namespaces', 'fail'), 1, 'the hostPID Pod');
  t.equal(result('isolation.no-host-namespaces', 'pass'), 1, 'the compliant Deployment (its pod template)');
  t.same(samples.find((x) => x.name === 'fleetgate_policy_results_total' && x.labels.policy === 'isolation.no-host-namespaces')?.labels.action, 'deny');
  t.equal(result('test.boom', 'error'), 2, 'a policy that threw on both ConfigMaps');
  t.equal(result('test.boom', 'pass') + result('test.boom', 'fail'), 0);
  t.equal(result('test.picky', 'fail'), 1, 'two findings in one review are one failed evaluation');
  t.equal(result('test.picky', 'pass'), 1);
  t.equal(sum(samples, 'fleetgate_policy_results_total', { policy: 'test.picky', action: 'audit' }), 2);
  // Per-policy execution time: one observation per evaluation, in a histogram with microsecond buckets.
  t.equal(sum(samples, 'fleetgate_policy_execution_duration_seconds_count', { policy: 'test.picky' }), 2);
  t.equal(sum(samples, 'fleetgate_policy_execution_duration_seconds_count', { policy: 'isolation.no-host-namespaces' }), 2);
  t.ok(samples.some((x) => x.name === 'fleetgate_policy_execution_duration_seconds_bucket' && x.labels.le === '0.000001'), 'a 1 µs bucket');
  t.equal(
    sum(samples, 'fleetgate_policy_execution_duration_seconds_count', { policy: 'test.boom' }),
    2,
    'a policy that throws is timed too',
  );
});

t.test('review latency is labelled by operation and decision', async (t) => {
  const s = await startServer({ config: { exemptNamespaces: ['kube-system'] } });
  t.teardown(() => s.close());
  await s.post(review(hostPidPod()));
  await s.post(review(compliantDeployment()));
  await s.post(review(hostPidPod('sys', 'kube-system')));
  const samples = parseExposition((await s.get('/metrics')).text);
  const count = (decision: string) => sum(samples, 'fleetgate_admission_duration_seconds_count', { operation: 'CREATE', decision });
  t.same([count('denied'), count('allowed'), count('exempt')], [1, 1, 1]);
});

t.test('the serving certificate expiry is exported as a timestamp', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  const samples = parseExposition((await s.get('/metrics')).text);
  const expiry = samples.find((x) => x.name === 'fleetgate_tls_certificate_expiry_timestamp_seconds');
  t.equal(expiry?.value, Date.parse(new X509Certificate(s.certs.cert).validTo) / 1000);
});

t.test('user policies in the sandbox get results too', async (t) => {
  const set = await loadPolicySet([join(import.meta.dirname, '../fixtures/core/user-policies/no-latest.ts')]);
  t.same(set.errors, []);
  // A generous budget: on a loaded machine a worker's first review must not fail open (this is about counting).
  const s = await startServer({ policies: [...builtinPolicies, ...set.policies], config: { timeoutMs: 30_000 } });
  t.teardown(() => s.close());
  const pod = (image: string, name: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop' },
    spec: { containers: [{ name: 'a', image }] },
  });
  const latest = await s.post(review(pod('nginx:latest', 'l')));
  t.ok(latest.json.response.warnings.some((w: string) => w.startsWith('[acme.no-latest-tag]')), 'the user policy warned');
  await s.post(review(pod('nginx:1.27', 'p')));
  const samples = parseExposition((await s.get('/metrics')).text);
  t.equal(sum(samples, 'fleetgate_policy_results_total', { policy: 'acme.no-latest-tag', action: 'warn', result: 'fail' }), 1);
  t.equal(sum(samples, 'fleetgate_policy_results_total', { policy: 'acme.no-latest-tag', action: 'warn', result: 'pass' }), 1);
  t.equal(sum(samples, 'fleetgate_policy_results_total', { policy: 'isolation.no-host-namespaces', result: 'pass' }), 2, 'built-in ones beside them');
});
