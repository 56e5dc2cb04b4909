// Admission semantics over real HTTPS with real AdmissionReview JSON: insignificant Pod updates are not judged,
// existing violations may be updated (a warning naming the policy), new ones are denied, DELETE is never denied.
import t from 'tap';
import { builtinPolicies, compliantDeployment, hostPidPod, review, startServer, testPolicy } from '../helpers/webhook.js';

type Obj = Record<string, any>;
const clone = <T>(o: T): T => JSON.parse(JSON.stringify(o));
const withLabel = (o: Obj, k: string, v: string) => {
  const c = clone(o);
  c.metadata.labels = { ...(c.metadata.labels ?? {}), [k]: v };
  return c;
};

t.test('an UPDATE that only adds a label to a non-compliant Pod is admitted without a word', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  const old = hostPidPod();
  const created = await s.post(review(old));
  t.equal(created.json.response.allowed, false, 'the pod itself is denied on CREATE (hostPID)');
  const r = await s.post(review(withLabel(old, 'team', 'payments'), { operation: 'UPDATE', oldObject: old, uid: 'relabel-1' }));
  t.equal(r.json.response.uid, 'relabel-1');
  t.equal(r.json.response.allowed, true);
  t.notOk(r.json.response.warnings, 'not judged at all, as pod-security-admission does for insignificant updates');
  const finalizer = clone(old);
  finalizer.metadata.finalizers = [];
  finalizer.metadata.annotations = { note: 'drained' };
  t.equal((await s.post(review(finalizer, { operation: 'UPDATE', oldObject: { ...clone(old), metadata: { ...old.metadata, finalizers: ['x/y'] } } }))).json.response.allowed, true, 'finalizer removal');
});

t.test('a significant Pod UPDATE keeps an existing violation as a warning and denies a new one', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  const old = hostPidPod();
  const reimaged = clone(old);
  reimaged.spec.containers[0].image = 'busybox:1.37';
  const r = await s.post(review(reimaged, { operation: 'UPDATE', oldObject: old }));
  t.equal(r.json.response.allowed, true, 'hostPID was there before: not denied');
  t.match(r.json.response.warnings.join('\n'), /\[isolation\.no-host-namespaces\].*already violated before this update/, 'the warning names the policy');
  const worse = clone(reimaged);
  worse.spec.hostNetwork = true;
  const denied = await s.post(review(worse, { operation: 'UPDATE', oldObject: old }));
  t.equal(denied.json.response.allowed, false, 'hostNetwork is new: denied');
  t.match(denied.json.response.status.message, /hostNetwork/);
  t.notMatch(denied.json.response.status.message, /hostPID/, 'the old hostPID finding does not deny');
  const ephemeral = clone(old);
  ephemeral.spec.ephemeralContainers = [{ name: 'debug', image: 'busybox:1.36', securityContext: { privileged: true } }];
  const added = await s.post(review(ephemeral, { operation: 'UPDATE', oldObject: old }));
  t.equal(added.json.response.allowed, false, 'an added ephemeral container is significant; privileged is new');
  t.match(added.json.response.status.message, /pss\.baseline\.privileged/);
});

t.test('scaling a non-compliant Deployment is admitted with warnings; adding a violation to it is denied', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  const old = compliantDeployment('agent');
  old.spec.template.spec = { ...old.spec.template.spec, hostNetwork: true } as never;
  const scaled = clone(old);
  scaled.spec.replicas = 3;
  const r = await s.post(review(scaled, { operation: 'UPDATE', oldObject: old }));
  t.equal(r.json.response.allowed, true);
  t.match(r.json.response.warnings.join('\n'), /\[pss\.baseline\.host-namespaces\]/);
  const hostPid = clone(scaled);
  hostPid.spec.template.spec.hostPID = true;
  t.equal((await s.post(review(hostPid, { operation: 'UPDATE', oldObject: old }))).json.response.allowed, false);
});

t.test('allowExistingViolations: false judges every violation on UPDATE; DELETE is never denied', async (t) => {
  const strict = testPolicy('test.owner-label', 'deny', ['ConfigMap'], ({ object, report }) => {
    if (!object.metadata?.labels?.owner) report('ConfigMaps need an owner label', 'metadata');
  }, { allowExistingViolations: false });
  const lenient = testPolicy('test.team-label', 'deny', ['ConfigMap'], ({ object, report }) => {
    if (!object.metadata?.labels?.team) report('ConfigMaps need a team label', 'metadata');
  }, { match: { kinds: ['ConfigMap'], operations: ['CREATE', 'UPDATE', 'DELETE'] } });
  const s = await startServer({ policies: [...builtinPolicies, strict, lenient] });
  t.teardown(() => s.close());
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' }, data: { a: '1' } };
  const edited = { ...cm, data: { a: '2' } };
  const r = await s.post(review(edited, { operation: 'UPDATE', oldObject: cm }));
  t.equal(r.json.response.allowed, false);
  t.match(r.json.response.status.message, /test\.owner-label/, 'the strict policy denies');
  t.notMatch(r.json.response.status.message, /test\.team-label/, 'the lenient one does not');
  t.match(r.json.response.warnings.join('\n'), /\[test\.team-label\]/);
  const del = await s.post(review(null, { operation: 'DELETE', oldObject: cm, namespace: 'shop' }));
  t.equal(del.json.response.allowed, true, 'DELETE is never denied by an object policy');
  t.match(del.json.response.warnings.join('\n'), /\[test\.team-label\].*DELETE is never denied/);
});

t.test('Pod Security exemptions as PSA configures them: usernames, runtime classes, system namespaces by default', async (t) => {
  const s = await startServer({ config: { parameters: { exemptUsernames: ['system:serviceaccount:ops:node-debugger'], exemptRuntimeClasses: ['kata'] } } });
  t.teardown(() => s.close());
  const pss = (r: { json: any }) => String(r.json.response.status?.message ?? '').includes('pss.baseline.host-namespaces');
  t.ok(pss(await s.post(review(hostPidPod()))), 'judged for an ordinary user');
  const byUser = await s.post(review(hostPidPod(), { user: 'system:serviceaccount:ops:node-debugger' }));
  t.notOk(pss(byUser), 'the exempt user is not judged by the pss.* pack');
  t.match(byUser.json.response.status.message, /isolation\.no-host-namespaces/, 'other packs still judge the request');
  const kata = hostPidPod();
  (kata.spec as Record<string, unknown>).runtimeClassName = 'kata';
  t.notOk(pss(await s.post(review(kata))), 'an exempt runtime class is not judged');
  const sys = await s.post(review(hostPidPod('agent', 'kube-system')));
  t.equal(sys.json.response.allowed, true, 'kube-system: a system namespace, exempt by default');
});
