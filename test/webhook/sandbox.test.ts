// serve with hostile user policies (issue 12, items 1, 4 and 5): built-in denials always stand, a slow user
// policy costs only its own part of the decision, and the server keeps answering.
import t from 'tap';
import { builtinPolicies } from '../../policies/index.js';
import { loadPolicySet } from '../../src/loading/index.js';
import { hostPidPod, review, startServer } from '../helpers/webhook.js';

const privileged = (annotations: Record<string, string> = {}) => {
  const p = hostPidPod('debug');
  return { ...p, metadata: { ...p.metadata, annotations }, spec: { ...p.spec, containers: p.spec.containers.map((c: any) => ({ ...c, securityContext: { ...c.securityContext, privileged: true } })) } };
};

t.test('a policy that patches the engine at top level: failurePolicy closed still denies a privileged hostPID pod', async (t) => {
  const { policies, errors } = await loadPolicySet(['test/fixtures/sandbox/patch-engine'], { builtins: builtinPolicies });
  t.same(errors, []);
  const s = await startServer({ policies, config: { failurePolicy: 'closed' } });
  t.teardown(() => s.close());
  const r = await s.post(review(privileged()));
  t.equal(r.json.response.allowed, false);
  t.match(r.json.response.status.message, /isolation\.no-host-namespaces/);
});

t.test('failurePolicy open + a catastrophic regex on a tenant annotation: the built-in denial stands', async (t) => {
  const { policies, errors } = await loadPolicySet(['test/fixtures/sandbox/slow-regex'], { builtins: builtinPolicies, sandbox: { timeoutMs: 300 } });
  t.same(errors, []);
  const s = await startServer({ policies, config: { failurePolicy: 'open', timeoutMs: 300 } });
  t.teardown(() => s.close());
  const evil = privileged({ 'example.com/owner': `${'a'.repeat(40)}!` });
  const [r, health] = await Promise.all([s.post(review(evil, { uid: 'evil' })), s.get('/healthz')]);
  t.equal(r.json.response.uid, 'evil');
  t.equal(r.json.response.allowed, false, 'the tenant cannot buy an admit with a slow annotation');
  t.match(r.json.response.status.message, /isolation\.no-host-namespaces/);
  t.notMatch(r.json.response.status.message, /tenant\.annotation-format/, 'open: the stopped user policy does not deny');
  // The client is told which policy failed and why it was admitted, never the internal error text (that goes to the log).
  t.match(r.json.response.warnings?.join('\n'), /tenant\.annotation-format\] could not be evaluated.*admitted because failurePolicy is open/);
  t.equal(health.status, 200, '/healthz answers');
  const fine = await s.post(review({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' } }, { uid: 'after' }));
  t.equal(fine.json.response.allowed, true, 'the next review is judged normally');
});

t.test('failurePolicy closed + the same slow policy on a compliant pod: only that policy\'s part denies', async (t) => {
  const { policies } = await loadPolicySet(['test/fixtures/sandbox/slow-regex'], { builtins: builtinPolicies, sandbox: { timeoutMs: 300 } });
  const s = await startServer({ policies, config: { failurePolicy: 'closed', timeoutMs: 300 } });
  t.teardown(() => s.close());
  const p = hostPidPod('ok');
  const compliant = { ...p, metadata: { ...p.metadata, annotations: { 'example.com/owner': `${'a'.repeat(40)}!` } }, spec: { ...p.spec, hostPID: false } };
  const r = await s.post(review(compliant));
  t.equal(r.json.response.allowed, false);
  t.match(r.json.response.status.message, /tenant\.annotation-format.*failurePolicy is closed/);
  t.notMatch(r.json.response.status.message, /isolation\./);
});

t.test('serve with a policy file that loops at top level exits 2 naming the file instead of hanging', async (t) => {
  const { makeCerts } = await import('../helpers/webhook.js');
  const { runCli } = await import('../helpers/cli.js');
  const certs = await makeCerts(t);
  const r = await runCli(['serve', '--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--port', '0', '--no-namespace-watch', '--policies', 'test/fixtures/sandbox/toplevel-loop', '--config', await writeConfig(certs.dir)]);
  t.equal(r.code, 2, r.stderr);
  t.match(r.stderr, /toplevel-loop\/a-loops\.ts: cannot load policy: timed out after 1000 ms while loading/);
});

async function writeConfig(dir: string): Promise<string> {
  const { writeFile } = await import('node:fs/promises');
  const file = `${dir}/config.yaml`;
  await writeFile(file, 'timeoutMs: 1000\n');
  return file;
}
