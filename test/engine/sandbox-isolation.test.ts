// The trust boundary (issue 12, items 1-4): hostile user policy files run through the real CLI. Built-in verdicts
// must survive them, nothing outside the policy's input may be reached, and a runaway top level is skipped.
import t from 'tap';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';

const F = 'test/fixtures/sandbox';
const pod = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {hostPID: true, containers: [{name: a, image: "a:1", securityContext: {privileged: true}}]}\n';
type Out = { findings: { policy: string; message: string; error?: boolean }[]; errors: { file: string; message: string }[] };
const lint = async (...flags: string[]) => {
  const r = await runCli(['lint', '-', '--format', 'json', ...flags], { input: pod });
  return { code: r.code, out: JSON.parse(r.stdout) as Out, stderr: r.stderr };
};
// Built-in ids found, counting those named in a kept finding's `also` (reports keep one finding per field).
const builtinIds = (o: Out) => o.findings.flatMap((f) => [f.policy, ...((f as { also?: string[] }).also ?? [])]).filter((p) => !p.startsWith('hostile.') && !p.startsWith('tenant.')).sort();

t.test('a policy that patches the engine, the intrinsics and the global object at top level changes no built-in verdict', async (t) => {
  const plain = await lint();
  t.equal(plain.code, 1);
  t.ok(builtinIds(plain.out).length >= 4, 'the pod has built-in findings');
  const hostile = await lint('--policies', join(F, 'patch-engine'));
  t.equal(hostile.code, 1, hostile.stderr);
  t.same(hostile.out.errors, []);
  t.same(builtinIds(hostile.out), builtinIds(plain.out), 'every built-in finding is still there');
});

t.test('validate() reaches no file, environment, process, socket, worker or built-in module', async (t) => {
  const dir = await tempDir(t, 'fleetgate-ambient-');
  const marker = join(dir, 'written');
  const received: string[] = [];
  const listener = createServer((s) => {
    received.push('connection');
    s.on('data', (d) => received.push(String(d)));
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  t.teardown(() => listener.close());
  const port = (listener.address() as { port: number }).port;
  const r = await lint('--policies', join(F, 'ambient'), '--param', `hostile.ambient:port=${port}`, '--param', `hostile.ambient:file=${marker}`);
  const probes = r.out.findings.filter((f) => f.policy === 'hostile.ambient');
  t.equal(probes.length, 12, 'every probe ran and reported');
  for (const f of probes) {
    if (f.message.startsWith('REACHED import()')) continue; // a promise that can only reject: checked below
    t.match(f.message, /^blocked /, f.message);
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(received, [], 'the loopback listener received nothing');
  t.notOk(existsSync(marker), 'no file was written');
  t.ok(builtinIds(r.out).length >= 4, 'built-ins still judged the pod');

  const imports = await lint('--policies', join(F, 'ambient-import'));
  t.equal(imports.code, 2);
  t.match(imports.out.errors, [{ file: join(F, 'ambient-import/reads-fs.ts'), message: /cannot compile policy: policies cannot import "node:fs"/ }]);
});

t.test('one policy mutating the object or polluting Object.prototype cannot change another policy\'s verdict', async (t) => {
  const r = await lint('--policies', join(F, 'cross'));
  const honest = r.out.findings.filter((f) => f.policy === 'tenant.no-host-pid');
  t.same(honest.map((f) => f.message), ['hostPID is set'], 'the later policy still sees hostPID: true and an unpolluted prototype');
  t.ok(builtinIds(r.out).includes('isolation.no-host-namespaces'));
});

t.test('a top-level for(;;) is reported with its file and skipped; lint finishes with every other verdict', async (t) => {
  const r = await lint('--policies', join(F, 'toplevel-loop'), '--policy-timeout', '1500');
  t.equal(r.code, 2, 'an unusable policy file is an input error');
  t.match(r.out.errors, [{ file: join(F, 'toplevel-loop/a-loops.ts'), message: /cannot load policy: timed out after 1500 ms while loading/ }]);
  t.same(r.out.findings.filter((f) => f.policy === 'tenant.no-host-pid').map((f) => f.message), ['hostPID is set']);
  t.ok(builtinIds(r.out).includes('pss.baseline.host-namespaces'));
});

t.test('a runaway promise job is stopped and blamed on the file that queued it, not on the policies judged last', async (t) => {
  const r = await lint('--policies', join(F, 'microtask'), '--policy-timeout', '1000');
  const user = r.out.findings.filter((f) => f.policy.startsWith('hostile.') || f.policy.startsWith('tenant.'));
  t.same(
    user.map((f) => [f.policy, f.error === true]),
    [['hostile.queues-forever', true], ['tenant.no-host-pid', false]],
    'the queuing policy is an error finding; the honest one still reports hostPID',
  );
});
