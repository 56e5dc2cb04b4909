// The webhook over real HTTPS sockets: verdicts, warnings, audit, dryRun, exemptions, concurrency, metrics, logs.
import t from 'tap';
import { request as httpRequest } from 'node:http';
import {
  builtinPolicies,
  compliantDeployment,
  hostPidPod,
  nonEuServiceEntry,
  review,
  startServer,
  testEgressPolicy,
  testPolicy,
} from '../helpers/webhook.js';

t.test('a hostPID Pod is denied with 403 and the policy id; the uid comes back', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  const r = await s.post(review(hostPidPod(), { uid: 'hostpid-1' }));
  t.equal(r.status, 200);
  t.equal(r.json.apiVersion, 'admission.k8s.io/v1');
  t.equal(r.json.kind, 'AdmissionReview');
  t.equal(r.json.response.uid, 'hostpid-1');
  t.equal(r.json.response.allowed, false);
  t.equal(r.json.response.status.code, 403);
  t.match(r.json.response.status.message, /isolation\.no-host-namespaces/);
  t.match(r.json.response.status.message, /hostPID/);
  t.match(r.json.response.status.message, /\$\.spec\.hostPID/, 'says what to change');
  const line = s.logs.map((l) => JSON.parse(l)).find((l) => l.uid === 'hostpid-1');
  t.ok(line, 'one log line for the denied review');
  t.same(
    { kind: line.kind, namespace: line.namespace, name: line.name, user: line.user, deny: line.deny, decision: line.decision },
    { kind: 'Pod', namespace: 'shop', name: 'debug', user: 'alice', deny: ['isolation.no-host-namespaces', 'pss.baseline.host-namespaces'], decision: 'denied' },
  );
});

t.test('a compliant Deployment is allowed; a DELETE is allowed; a hostNetwork Deployment template is denied', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  const ok = await s.post(review(compliantDeployment(), { uid: 'dep-1' }));
  t.equal(ok.json.response.uid, 'dep-1');
  t.equal(ok.json.response.allowed, true);
  t.notOk(ok.json.response.status);
  const del = await s.post(review(null, { operation: 'DELETE', oldObject: hostPidPod(), namespace: 'shop', uid: 'del-1' }));
  t.equal(del.json.response.allowed, true, 'DELETE is allowed unless a policy asks for it');
  const connect = await s.post(review({ apiVersion: 'v1', kind: 'PodExecOptions', command: ['sh'] }, { operation: 'CONNECT', namespace: 'shop' }));
  t.equal(connect.json.response.allowed, true);
  const bad = compliantDeployment('agent');
  (bad.spec.template.spec as Record<string, unknown>).hostNetwork = true;
  const denied = await s.post(review(bad));
  t.equal(denied.json.response.allowed, false);
  t.match(denied.json.response.status.message, /spec\.template\.spec\.hostNetwork/);
  t.equal(s.logs.filter((l) => JSON.parse(l).uid === 'dep-1').length, 0, 'allowed reviews are not logged');
});

t.test('a policy that asks for DELETE sees the old object (and, as DESIGN says, never denies a DELETE)', async (t) => {
  const keep = testPolicy('test.keep-protected', 'deny', ['ConfigMap'], ({ object, report }) => {
    if (object.metadata?.labels?.protected === 'true') report('protected ConfigMaps cannot be deleted');
  }, { match: { kinds: ['ConfigMap'], operations: ['DELETE'] } });
  const s = await startServer({ policies: [keep] });
  t.teardown(() => s.close());
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop', labels: { protected: 'true' } } };
  // DESIGN ("Admission semantics"): DELETE is never denied by an object policy; its deny finding is a warning.
  const del = (await s.post(review(null, { operation: 'DELETE', oldObject: cm, namespace: 'shop' }))).json.response;
  t.equal(del.allowed, true);
  t.match(del.warnings.join('\n'), /\[test\.keep-protected\] protected ConfigMaps cannot be deleted/, 'the policy judged the old object');
  t.equal((await s.post(review(cm))).json.response.allowed, true, 'CREATE is not asked for');
});

t.test('UPDATE evaluates request.object and passes oldObject to policies', async (t) => {
  const immutable = testPolicy('test.immutable-owner', 'deny', ['ConfigMap'], ({ object, oldObject, operation, report }) => {
    if (operation === 'UPDATE' && oldObject?.metadata?.labels?.owner !== object.metadata?.labels?.owner) report('the owner label is immutable', 'metadata.labels.owner');
  });
  const s = await startServer({ policies: [immutable] });
  t.teardown(() => s.close());
  const cm = (owner: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop', labels: { owner } } });
  t.equal((await s.post(review(cm('b'), { operation: 'UPDATE', oldObject: cm('a') }))).json.response.allowed, false);
  t.equal((await s.post(review(cm('a'), { operation: 'UPDATE', oldObject: cm('a') }))).json.response.allowed, true);
});

t.test('a non-EU ServiceEntry is denied on a cluster labelled region=europe, allowed elsewhere', async (t) => {
  const builtin = builtinPolicies.find((p) => p.id === 'gdpr.no-egress-outside-eu');
  const policies = [...builtinPolicies, testEgressPolicy];
  const eu = await startServer({ policies, labels: { region: 'europe' } });
  t.teardown(() => eu.close());
  const r = await eu.post(review(nonEuServiceEntry()));
  t.equal(r.json.response.allowed, false);
  t.equal(r.json.response.status.code, 403);
  t.match(r.json.response.status.message, /test\.no-egress-outside-eu/);
  if (builtin) t.match(r.json.response.status.message, /gdpr\.no-egress-outside-eu/);
  const us = await startServer({ policies, labels: { region: 'us' } });
  t.teardown(() => us.close());
  t.equal((await us.post(review(nonEuServiceEntry()))).json.response.allowed, true);
});

t.test('--action ID=warn: allowed with a warning naming the policy; audit: allowed, logged and counted', async (t) => {
  // pss.baseline.host-namespaces judges hostPID too: audit it here so the warning under test is the only one.
  const warn = await startServer({ actions: { 'isolation.no-host-namespaces': 'warn', 'pss.*': 'audit' } });
  t.teardown(() => warn.close());
  const r = await warn.post(review(hostPidPod(), { uid: 'warn-1' }));
  t.equal(r.json.response.allowed, true);
  t.equal(r.json.response.warnings.length, 1);
  t.match(r.json.response.warnings[0], /^\[isolation\.no-host-namespaces\] pod sets hostPID: true/);
  const line = warn.logs.map((l) => JSON.parse(l)).find((l) => l.uid === 'warn-1');
  t.same(line.warn, ['isolation.no-host-namespaces']);
  t.equal(line.msg, 'admission allowed with warnings');

  const audit = await startServer({ config: { actions: { 'isolation.*': 'audit', 'pss.*': 'audit' } } });
  t.teardown(() => audit.close());
  const a = await audit.post(review(hostPidPod(), { uid: 'audit-1' }));
  t.equal(a.json.response.allowed, true);
  t.notOk(a.json.response.warnings);
  const aline = audit.logs.map((l) => JSON.parse(l)).find((l) => l.uid === 'audit-1');
  t.same(aline.audit, ['isolation.no-host-namespaces', 'pss.baseline.host-namespaces']);
  const metrics = (await audit.get('/metrics')).text;
  // Was fleetgate_admission_requests_total{policy="isolation.no-host-namespaces",decision="audit",...}: per-policy results have their own counter now.
  t.match(metrics, /fleetgate_policy_results_total\{policy="isolation.no-host-namespaces",action="audit",result="fail"\} 1/);
});

t.test('dryRun requests are evaluated the same way and not counted as enforcement', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  const r = await s.post(review(hostPidPod(), { dryRun: true }));
  t.equal(r.json.response.allowed, false);
  const metrics = (await s.get('/metrics')).text;
  t.notMatch(metrics, /fleetgate_admission_requests_total\{/, 'nothing in requests_total');
  t.match(metrics, /fleetgate_admission_dry_run_requests_total\{decision="denied",operation="CREATE",kind="Pod"\} 1/);
});

t.test('exempt namespaces and users (globs) are admitted without evaluation', async (t) => {
  const s = await startServer({ config: { exemptNamespaces: ['kube-*', 'fleetgate-system'], exemptUsers: ['system:serviceaccount:kube-system:*'] } });
  t.teardown(() => s.close());
  t.equal((await s.post(review(hostPidPod('p', 'kube-node-ops')))).json.response.allowed, true);
  t.equal((await s.post(review(hostPidPod(), { user: 'system:serviceaccount:kube-system:daemon-set-controller' }))).json.response.allowed, true);
  t.equal((await s.post(review(hostPidPod(), { user: 'system:serviceaccount:shop:builder' }))).json.response.allowed, false);
  t.match((await s.get('/metrics')).text, /decision="exempt"/);
});

t.test('300 concurrent reviews each get their own verdict', async (t) => {
  const policies = [...builtinPolicies, testEgressPolicy];
  const s = await startServer({ policies, labels: { region: 'europe' } });
  t.teardown(() => s.close());
  const kinds = ['pod', 'deployment', 'serviceentry', 'delete'] as const;
  const sent = Array.from({ length: 300 }, (_, i) => {
    const k = kinds[i % kinds.length];
    const uid = `c-${i}`;
    const body =
      k === 'pod'
        ? review(hostPidPod(`p${i}`), { uid })
        : k === 'deployment'
          ? review(compliantDeployment(`d${i}`), { uid })
          : k === 'serviceentry'
            ? review(nonEuServiceEntry(), { uid })
            : review(null, { operation: 'DELETE', oldObject: hostPidPod(`p${i}`), namespace: 'shop', uid });
    return { uid, expectAllowed: k === 'deployment' || k === 'delete', k, i, body };
  });
  const replies = await Promise.all(sent.map((x) => s.post(x.body)));
  let wrong = 0;
  replies.forEach((r, i) => {
    const x = sent[i];
    if (r.status !== 200 || r.json.response.uid !== x.uid || r.json.response.allowed !== x.expectAllowed) wrong++;
    if (x.k === 'pod' && !String(r.json.response.status?.message).includes(`"p${x.i}"`)) wrong++;
  });
  t.equal(wrong, 0, 'every reply carries its own uid and verdict');
});

t.test('/healthz, /readyz (503 until the policies load) and /metrics', async (t) => {
  let release!: (p: typeof builtinPolicies) => void;
  const pending = new Promise<typeof builtinPolicies>((r) => (release = r));
  const { createWebhookServer } = await import('../../webhook/server.js');
  const { makeCerts } = await import('../helpers/webhook.js');
  const { mergeSettings } = await import('../../webhook/config.js');
  const { pino } = await import('pino');
  const certs = await makeCerts(t);
  const server = await createWebhookServer({ settings: mergeSettings({}, {}), policies: pending, tls: certs, logger: pino({ level: 'silent' }) });
  t.teardown(() => server.close());
  t.equal((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  t.equal((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
  const early = await server.app.inject({ method: 'POST', url: '/validate', payload: review(hostPidPod()) });
  t.equal(early.statusCode, 503, 'reviews before the policies load are refused, not guessed');
  release(builtinPolicies);
  await server.ready;
  t.equal((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);

  const s = await startServer();
  t.teardown(() => s.close());
  await s.post(review(hostPidPod()));
  await s.post(review(compliantDeployment()));
  const m = await s.get('/metrics');
  t.equal(m.status, 200);
  t.match(String(m.headers['content-type']), /text\/plain/);
  for (const name of [
    'fleetgate_admission_requests_total',
    'fleetgate_admission_duration_seconds_bucket',
    'fleetgate_policy_evaluation_errors_total',
    'fleetgate_admission_fail_open_total',
  ])
    t.match(m.text, new RegExp(`^${name}`, 'm'), name);
  // The same facts as before the per-review and per-policy series were split (they shared one counter, with policy="" per review).
  t.match(m.text, /fleetgate_admission_requests_total\{operation="CREATE",kind="Pod",decision="denied"\} 1/);
  t.match(m.text, /fleetgate_admission_requests_total\{operation="CREATE",kind="Deployment",decision="allowed"\} 1/);
  t.match(m.text, /fleetgate_policy_results_total\{policy="isolation.no-host-namespaces",action="deny",result="fail"\} 1/);
});

t.test('plain HTTP is refused', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  const outcome = await new Promise<string>((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port: s.port, path: '/healthz', method: 'GET', timeout: 5000 }, (res) => resolve(`http ${res.statusCode}`));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
  t.match(outcome, /^error /, `plain HTTP gets no HTTP answer (${outcome})`);
  t.equal((await s.get('/healthz')).status, 200, 'and the server is still up');
});

t.test('/readyz waits for the namespace cache as well as the policies', async (t) => {
  let synced = false;
  const s = await startServer({ dependenciesReady: () => synced });
  t.teardown(() => s.close());
  const before = await s.get('/readyz');
  t.equal(before.status, 503);
  t.match(before.text, /namespace cache not synced yet/);
  synced = true;
  t.equal((await s.get('/readyz')).status, 200);
  t.equal((await s.get('/healthz')).status, 200, 'alive all along');
});

t.test('the plain "allowed" answer (pre-built around the uid) is the same AdmissionReview, any uid escaped', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  for (const [i, uid] of ['705ab4f5-6393-11e8-b7cc-42010a800002', 'quote " back\\slash \u2028 é', '</script>{"allowed":false}'].entries()) {
    const r = await s.post(review(compliantDeployment(), { uid }));
    t.equal(r.status, 200);
    t.match(String(r.headers['content-type']), /^application\/json; charset=utf-8$/);
    t.same(JSON.parse(r.text), { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } }, `uid ${i}`);
  }
  // An answer with warnings is not the plain one: the serializer still writes it.
  const warned = await s.post(review(hostPidPod(), { uid: 'dry', dryRun: true }));
  t.equal(warned.json.response.uid, 'dry');
});
