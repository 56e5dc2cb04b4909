// Every policy file in the isolate shares one frozen copy of fleetgate's code and one engine pass: a file that
// patches that code, or what the engine hands it, must not change another file's verdict (issue 12, item 3, with
// the shared runtime of issue 17).
import t from 'tap';
import { runCli } from '../helpers/cli.js';

const F = 'test/fixtures/sandbox/shared';
const input = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: a, image: "docker.io/a:1"}, {name: b, image: "docker.io/b:1"}]}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n';
type Out = { findings: { policy: string; message: string; resource: { name: string }; source?: { line: number } }[]; errors: unknown[] };
const lint = async (...paths: string[]) => {
  const r = await runCli(['lint', '-', '--format', 'json', '--no-builtins', ...paths.flatMap((p) => ['--policies', p])], { input });
  return JSON.parse(r.stdout) as Out;
};
const of = (o: Out, prefix: string) => o.findings.filter((f) => f.policy.startsWith(prefix)).map((f) => `${f.policy}@${f.resource.name}:${f.source?.line}: ${f.message}`);

t.test('a file that patches the shared API, the pod view, the namespace, its context or the inventory changes no other file\'s verdict', async (t) => {
  const alone = await lint(`${F}/b-honest.ts`);
  t.same(alone.errors, []);
  t.same(of(alone, 'tenant.'), [
    'tenant.pod-count@p:1: 1 pods, 2 resources',
    'tenant.registry@p:4: container "a" image docker.io/a:1',
    'tenant.registry@p:4: container "b" image docker.io/b:1',
  ]);
  const both = await lint(F);
  t.same(both.errors, []);
  t.same(of(both, 'hostile.'), ['hostile.shared-object@p:1: ran'], 'every attempt failed (none is reported as PATCHED), and the ConfigMap pushed into match.kinds after load is not judged');
  t.same(of(both, 'tenant.'), of(alone, 'tenant.'), 'the honest file judges exactly as without the hostile one');
});
