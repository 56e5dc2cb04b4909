import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { definePolicy, PolicyDefinitionError } from '../../src/authoring/index.js';
import { loadPolicySet } from '../../src/loading/index.js';
import { runCli, tempDir } from '../helpers/cli.js';

/** A policy or parameter that does not say what its author meant does not load. */

const base = {
  id: 'strict.base',
  title: 't',
  area: 'strict',
  severity: 'low' as const,
  action: 'warn' as const,
  match: { kinds: ['Pod'] },
  validate() {},
  examples: { pass: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }], fail: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'q' } }] },
};

t.test('unknown keys in a policy, its match/exclude and examples are errors with a "did you mean"', async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ match: { kinds: ['Pod'], namespace: ['team-a'] } }, /match: unknown key "namespace" \(did you mean "namespaces"\?\)/],
    [{ exclude: { namspaces: ['kube-system'] } }, /exclude: unknown key "namspaces" \(did you mean "namespaces"\?\)/],
    [{ severty: 'high' }, /unknown key "severty" \(did you mean "severity"\?\)/],
    [{ examples: { ...base.examples, fial: [] } }, /examples: unknown key "fial" \(did you mean "fail"\?\)/],
    [{ examples: { pass: base.examples.pass, fail: [{ objects: [], clusterLabel: { a: 'b' } }] } }, /examples\.fail\[0\]: unknown key "clusterLabel" \(did you mean "clusterLabels"\?\)/],
  ];
  for (const [extra, message] of cases) t.throws(() => definePolicy({ ...base, ...extra } as never), { name: PolicyDefinitionError.name, message });
  t.doesNotThrow(() => definePolicy(base as never), 'a correct policy loads');
});

t.test('a policy file with match.namespace fails to load, naming the file', async (t) => {
  const r = await loadPolicySet(['test/fixtures/core/strict/namespace-typo.ts'], { builtins: [] });
  t.same(r.policies, []);
  t.match(r.errors, [{ file: 'test/fixtures/core/strict/namespace-typo.ts', message: /unknown key "namespace" \(did you mean "namespaces"\?\)/ }]);
});

t.test('lint: an undeclared --param is an error naming the policy', async (t) => {
  const input = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: kube-system}\n';
  const typo = await runCli(['lint', '-', '--param', 'euRegion=[europe]'], { input });
  t.equal(typo.code, 2);
  t.match(typo.stderr, /--param euRegion: no policy declares the parameter "euRegion" \(did you mean "euRegions"\?\)/);
  const own = await runCli(['lint', '-', '--param', 'gdpr.personal-data-residency:regions=[europe]'], { input });
  t.equal(own.code, 2);
  t.match(own.stderr, /policy gdpr\.personal-data-residency declares no parameter "regions"/);
  t.equal((await runCli(['lint', '-', '--param', 'euRegions=[europe]'], { input })).code, 0, 'a declared parameter is fine');
});

t.test('scan: an undeclared fleet.yaml parameter is an error naming the file and the policy', async (t) => {
  const dir = await tempDir(t, 'fleetgate-strict-');
  await writeFile(join(dir, 'fleet.yaml'), 'repo: .\nlayers: [{path: .}]\nparameters: { euRegion: [europe] }\nclusters: []\n');
  const r = await runCli(['scan', '--fleet', join(dir, 'fleet.yaml'), '--format', 'json']);
  t.equal(r.code, 2);
  t.match(r.stderr, /fleet\.yaml: parameters euRegion: no policy declares the parameter "euRegion" \(did you mean "euRegions"\?\)/);
});

t.test('PolicyTest files: unknown keys and undeclared params are errors with file:line and a "did you mean"', async (t) => {
  const dir = await tempDir(t, 'fleetgate-strict-test-');
  const USER = 'test/fixtures/core/user-policies';
  const head = 'apiVersion: fleetgate.io/v1alpha1\nkind: PolicyTest\nmetadata: {name: typo}\nspec:\n  policy: acme.no-latest-tag\n';
  const pod = '{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: a, image: "x:latest"}]}}';
  await writeFile(join(dir, 'case-key.yaml'), `${head}  cases:\n    - name: latest fails\n      expect: fail\n      object: [${pod}]\n`);
  await writeFile(join(dir, 'spec-key.yaml'), `${head}  param: {x: 1}\n  cases:\n    - {name: latest fails, expect: fail, objects: [${pod}]}\n`);
  await writeFile(join(dir, 'params.yaml'), `${head}  params: {allowedTag: v1}\n  cases:\n    - {name: latest fails, expect: fail, objects: [${pod}]}\n`);
  const r = await runCli(['test', dir, '--policies', USER, '--format', 'json']);
  t.equal(r.code, 2, 'a mistaken test is a usage error (exit 2)');
  const errors: { file: string; line?: number; message: string }[] = JSON.parse(r.stdout).errors;
  const of = (name: string) => errors.find((e) => e.file.endsWith(name));
  t.match(of('case-key.yaml'), { line: 9, message: /case 1: unknown key "object" \(did you mean "objects"\?\)/ }, 'a case key that nobody reads (the case would test nothing)');
  t.match(of('spec-key.yaml'), { line: 6, message: /spec: unknown key "param" \(did you mean "params"\?\)/ });
  t.match(of('params.yaml'), { line: 6, message: /policy acme\.no-latest-tag declares no parameter "allowedTag"/ });
  t.notOk(JSON.parse(r.stdout).results.some((c: { file?: string }) => c.file?.startsWith(dir)), 'a test with a mistake runs no case');
});
