// Policy errors and blown time budgets follow failurePolicy (closed by default for deny policies), counted and logged.
import t from 'tap';
import { inProcessEvaluator } from '../../src/engine/evaluator.js';
import { hostPidPod, review, startServer, testPolicy } from '../helpers/webhook.js';

const boom = (action: 'deny' | 'warn' | 'audit') =>
  testPolicy(`test.boom-${action}`, action, ['ConfigMap'], () => {
    throw new Error('kaput');
  });
const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' }, data: { a: '1' } };

t.test('a throwing deny policy fails closed by default: denied, counted, logged', async (t) => {
  const s = await startServer({ policies: [boom('deny')] });
  t.teardown(() => s.close());
  const r = await s.post(review(cm, { uid: 'boom-1' }));
  t.equal(r.status, 200);
  t.equal(r.json.response.allowed, false);
  t.match(r.json.response.status.message, /test\.boom-deny/);
  t.match(r.json.response.status.message, /failurePolicy is closed/);
  const m = (await s.get('/metrics')).text;
  t.match(m, /fleetgate_policy_evaluation_errors_total\{policy="test.boom-deny",reason="error"\} 1/);
  t.match(m, /fleetgate_admission_fail_closed_total\{reason="error"\} 1/);
  const line = s.logs.map((l) => JSON.parse(l)).find((l) => l.uid === 'boom-1');
  t.same(line.failed, ['test.boom-deny']);
  t.equal(line.failurePolicy, 'closed');
  t.equal(line.level, 50, 'logged as an error');
});

t.test('failurePolicy open: a throwing deny policy admits with a warning and counts a fail-open', async (t) => {
  const s = await startServer({ policies: [boom('deny')], config: { failurePolicy: 'open' } });
  t.teardown(() => s.close());
  const r = await s.post(review(cm));
  t.equal(r.json.response.allowed, true);
  t.match(r.json.response.warnings[0], /test\.boom-deny.*failurePolicy is open/);
  t.match((await s.get('/metrics')).text, /fleetgate_admission_fail_open_total\{reason="error"\} 1/);
});

t.test('a throwing warn or audit policy never denies', async (t) => {
  const s = await startServer({ policies: [boom('warn'), boom('audit')] });
  t.teardown(() => s.close());
  const r = await s.post(review(cm));
  t.equal(r.json.response.allowed, true);
  t.equal(r.json.response.warnings.length, 1);
  t.match(r.json.response.warnings[0], /test\.boom-warn/);
});

/** An evaluator that never answers for ConfigMaps named "slow" (a runaway user policy behind a worker). */
const stallingEvaluator = (engine: Parameters<typeof inProcessEvaluator>[0]) => {
  const inner = inProcessEvaluator(engine);
  return {
    evaluateObject: (obj: any, opts: any) => (obj?.metadata?.name === 'slow' ? new Promise<never>(() => {}) : inner.evaluateObject(obj, opts)),
  };
};

t.test('a blown time budget fails closed by default and open when configured; the server keeps answering', async (t) => {
  const pol = testPolicy('test.any-configmap', 'warn', ['ConfigMap'], () => {});
  const slow = { ...cm, metadata: { name: 'slow', namespace: 'shop' } };
  const closed = await startServer({ policies: [pol], evaluator: stallingEvaluator, config: { timeoutMs: 200 } });
  t.teardown(() => closed.close());
  const r = await closed.post(review(slow, { uid: 'slow-1' }));
  t.equal(r.status, 200);
  t.equal(r.json.response.uid, 'slow-1');
  t.equal(r.json.response.allowed, false);
  t.match(r.json.response.status.message, /did not finish within 200 ms.*failurePolicy is closed/);
  t.equal((await closed.post(review(cm))).json.response.allowed, true, 'other reviews still answered');
  const m = (await closed.get('/metrics')).text;
  t.match(m, /fleetgate_policy_evaluation_errors_total\{policy="",reason="timeout"\} 1/);
  t.match(m, /fleetgate_admission_fail_closed_total\{reason="timeout"\} 1/);
  t.ok(closed.logs.some((l) => JSON.parse(l).uid === 'slow-1' && JSON.parse(l).failure === 'timeout'), 'logged');

  const open = await startServer({ policies: [pol], evaluator: stallingEvaluator, config: { timeoutMs: 200, failurePolicy: 'open' } });
  t.teardown(() => open.close());
  const o = await open.post(review(slow));
  t.equal(o.json.response.allowed, true);
  t.match(o.json.response.warnings[0], /failurePolicy is open/);
  t.match((await open.get('/metrics')).text, /fleetgate_admission_fail_open_total\{reason="timeout"\} 1/);
});

t.test('an evaluator that rejects follows failurePolicy too', async (t) => {
  const s = await startServer({
    policies: [testPolicy('test.any-pod', 'deny', ['Pod'], () => {})],
    evaluator: () => ({ evaluateObject: async () => Promise.reject(new Error('worker died')) }),
  });
  t.teardown(() => s.close());
  const r = await s.post(review(hostPidPod()));
  t.equal(r.json.response.allowed, false);
  t.match(r.json.response.status.message, /worker died/);
});

t.test('a real user policy that loops forever is stopped in its worker at the budget; the server goes on', async (t) => {
  const { loadPolicySet } = await import('../../src/loading/policy-files.js');
  const { policies, errors } = await loadPolicySet(['test/fixtures/core/hostile-policies']);
  t.same(errors, []);
  const s = await startServer({ policies, config: { timeoutMs: 1500 } });
  t.teardown(() => s.close());
  const spin = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'spin', namespace: 'shop' } };
  const r = await s.post(review(spin, { uid: 'spin-1' }));
  t.equal(r.status, 200);
  t.equal(r.json.response.uid, 'spin-1');
  t.equal(r.json.response.allowed, false, 'fail-closed: the deny policy could not finish');
  const ok = await s.post(review({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fine', namespace: 'shop', labels: { owner: 'a' } } }, { uid: 'after' }));
  t.equal(ok.json.response.uid, 'after');
  t.equal(ok.json.response.allowed, true, 'the next review is judged normally by a fresh worker');
});
