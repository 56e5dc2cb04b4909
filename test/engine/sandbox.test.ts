import t from 'tap';
import { runCli } from '../helpers/cli.js';

const HOSTILE = 'test/fixtures/core/hostile-policies';
const configMaps = ['spin', 'hog', 'plain', 'labelled']
  .map((name) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: shop\n${name === 'labelled' ? '  labels: {owner: team-a}\n' : ''}`)
  .join('---\n');

t.test('user policies that loop or allocate without bound are stopped; every other verdict is kept', async (t) => {
  const r = await runCli(['lint', '-', '--format', 'json', '--no-builtins', '--policies', HOSTILE, '--policy-timeout', '4000'], { input: configMaps });
  t.equal(r.code, 1, r.stderr);
  const { findings } = JSON.parse(r.stdout) as { findings: { policy: string; resource: { name: string }; error?: boolean; message: string; source?: { line: number } }[] };
  const loops = findings.filter((f) => f.policy === 'hostile.loops');
  t.equal(loops.length, 1, 'the looping policy is reported once');
  t.match(loops[0], { resource: { name: 'spin' }, error: true, message: /stopped \(timed out after 4000 ms\)/ });
  const hog = findings.filter((f) => f.policy === 'hostile.allocates');
  t.equal(hog.length, 1, 'the allocating policy is reported once');
  t.match(hog[0], { resource: { name: 'hog' }, error: true, message: /stopped \(exceeded the memory limit\)/ });
  t.same(
    findings.filter((f) => f.policy === 'hostile.honest').map((f) => [f.resource.name, f.source?.line]),
    [['spin', 3], ['hog', 9], ['plain', 15]],
    'the honest policy judged every object, with file positions',
  );
});
