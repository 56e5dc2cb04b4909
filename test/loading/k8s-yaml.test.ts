import t from 'tap';
import { join } from 'node:path';
import { loadText } from '../../src/loading/index.js';
import { ROOT, runCli, tempDir } from '../helpers/cli.js';

/**
 * Manifests are read as Kubernetes reads them: sigs.k8s.io/yaml on go-yaml v2 (YAML 1.1 scalars, merge keys,
 * go-yaml v2's merge order). One test per rule of the README's "How manifests are read" table.
 */

/** The `data` of a one-document ConfigMap written with `body` under it. */
function value(body: string): unknown {
  const r = loadText(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata:\n  v: ${body}\n`, 'v.yaml');
  if (r.errors.length) throw new Error(JSON.stringify(r.errors));
  return (r.resources[0].object.data as Record<string, unknown>).v;
}

function object(text: string): Record<string, unknown> {
  const r = loadText(text, 'o.yaml');
  if (r.errors.length) throw new Error(JSON.stringify(r.errors));
  return r.resources[0].object as Record<string, unknown>;
}

t.test('booleans: y/yes/true/on and n/no/false/off in the case forms go-yaml v2 accepts', async (t) => {
  for (const s of ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']) t.equal(value(s), true, s);
  for (const s of ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']) t.equal(value(s), false, s);
  for (const s of ['yES', 'tRUE', 'oN', 'nO', 'fALSE', 'oFF', 'yess']) t.equal(value(s), s, `${s} is a string`);
  for (const s of ['"yes"', "'on'", '!!str off']) t.type(value(s), 'string', `${s} (quoted or tagged) is a string`);
});

t.test('null: empty, ~, null, Null, NULL', async (t) => {
  for (const s of ['', '~', 'null', 'Null', 'NULL']) t.equal(value(s), null, JSON.stringify(s));
  t.equal(value('nULL'), 'nULL');
});

t.test('integers: leading-zero octal, 0o/0x/0b in either case, signs, underscores, 64-bit range', async (t) => {
  t.equal(value('0755'), 493, '0755 is octal (YAML 1.2 would read 755)');
  t.equal(value('0644'), 420);
  t.equal(value('-0755'), -493);
  t.equal(value('0o755'), 493);
  t.equal(value('0O755'), 493);
  t.equal(value('0x1F'), 31);
  t.equal(value('0X1f'), 31);
  t.equal(value('+0x1F'), 31);
  t.equal(value('0b101'), 5);
  t.equal(value('-0B101'), -5);
  t.equal(value('1_000'), 1000);
  t.equal(value('0x_ff'), 255);
  t.equal(value('08'), 8, 'not octal, not an int: go-yaml reads it as the float 8');
  t.equal(value('0'), 0);
  t.equal(value('0x'), '0x', 'no digits: a string');
  t.equal(value('0xFFFFFFFFFFFFFFFFFF'), '0xFFFFFFFFFFFFFFFFFF', 'beyond 64 bits and not a decimal float: a string');
  t.equal(value('_1'), '_1', 'a leading underscore is a string');
});

t.test('floats: go-yaml v2 float syntax; out of range is a string; no base 60', async (t) => {
  t.equal(value('1e3'), 1000);
  t.equal(value('1.5'), 1.5);
  t.equal(value('.5'), 0.5);
  t.equal(value('-.5'), -0.5);
  t.equal(value('1.'), 1);
  t.equal(value('1_0.5'), 10.5);
  t.equal(value('.inf'), Infinity);
  t.equal(value('-.Inf'), -Infinity);
  t.ok(Number.isNaN(value('.NaN')));
  t.equal(value('1e400'), '1e400', 'overflows float64: go-yaml keeps the string');
  t.equal(value('1:20'), '1:20', 'YAML 1.1 base-60 is not supported by go-yaml');
  t.equal(value('190:20:30.15'), '190:20:30.15');
  t.equal(value('1.2.3'), '1.2.3');
});

t.test('timestamps stay strings (go-yaml v2 decodes them to strings in untyped data)', async (t) => {
  t.equal(value('2001-12-14'), '2001-12-14');
  t.equal(value('2001-12-14T21:59:43.10Z'), '2001-12-14T21:59:43.10Z');
});

t.test('!!binary is decoded to its text; !!set and !!omap are plain collections', async (t) => {
  t.equal(value('!!binary aGVsbG8='), 'hello');
  t.same(object('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata: !!set {a, b}\n').data, { a: null, b: null });
  t.same(object('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata: !!omap [{a: 1}]\n').data, [{ a: 1 }]);
});

t.test('map keys become strings as sigs.k8s.io/yaml writes them: yes → "true", 0x10 → "16"', async (t) => {
  const o = object('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata:\n  yes: a\n  off: b\n  0x10: c\n  "on": d\n');
  t.same(o.data, { true: 'a', false: 'b', 16: 'c', on: 'd' });
});

t.test('merge keys: a map, a list of maps (earlier wins), nested merges, explicit keys after the merge win', async (t) => {
  const o = object(`
base: &base {a: 1, b: 1}
more: &more {b: 2, c: 2}
apiVersion: v1
kind: ConfigMap
metadata: {name: m}
data:
  one: {<<: *base, b: 9}
  list: {<<: [*base, *more]}
  nested: {<<: {<<: *more, d: 4}}
  inline: {<<: {x: 1}}
`);
  const data = o.data as Record<string, unknown>;
  t.same(data.one, { a: 1, b: 9 });
  t.same(data.list, { a: 1, b: 1, c: 2 }, 'earlier maps in the list take precedence');
  t.same(data.nested, { b: 2, c: 2, d: 4 });
  t.same(data.inline, { x: 1 });
});

t.test('merge keys, go-yaml v2 order: a merge after an explicit key overrides it (unlike the YAML 1.1 spec)', async (t) => {
  const o = object('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: false\n  <<: {hostPID: true}\n');
  t.equal((o.spec as { hostPID: boolean }).hostPID, true, 'the API server would store hostPID: true');
});

t.test('merge keys: only a plain <<; a quoted "<<" is an ordinary key; a merge of a scalar is an error', async (t) => {
  const o = object('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata:\n  "<<": {a: 1}\n');
  t.same(o.data, { '<<': { a: 1 } });
  const tagged = object('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata:\n  !!merge <<: {a: 1}\n');
  t.same(tagged.data, { a: 1 });
  const bad = loadText('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata:\n  <<: 5\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: next}\n', 'bad.yaml');
  t.same(bad.resources.map((r) => r.object.metadata?.name), ['next'], 'the broken document is skipped, the next kept');
  t.match(bad.errors, [{ file: 'bad.yaml', line: 1, message: /merge requires a map or a sequence of maps/ }]);
});

t.test('merge keys cannot be used for a resource-exhaustion attack', async (t) => {
  const lines = ['l0: &l0 {a: 1}'];
  for (let i = 1; i < 40; i++) lines.push(`l${i}: &l${i} {<<: [*l${i - 1}, *l${i - 1}]}`);
  const r = loadText(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata:\n  ${lines.join('\n  ')}\n`, 'merge-bomb.yaml');
  t.equal(r.resources.length, 0);
  t.match(r.errors, [{ file: 'merge-bomb.yaml', message: /merge|alias/i }]);
});

t.test('positions: a finding on a merged-in field points at the field inside the anchored map', async (t) => {
  const file = join(ROOT, 'test/fixtures/core/k8s-yaml/host.yaml');
  const r = loadText((await import('node:fs')).readFileSync(file, 'utf8'), file);
  const merged = r.resources.find((x) => x.object.metadata?.name === 'merged')!;
  t.same(merged.locate?.(['spec', 'template', 'spec', 'hostIPC']), { file, line: 26, column: 9 });
  const yes = r.resources.find((x) => x.object.metadata?.name === 'net-yes')!;
  t.same(yes.locate?.(['spec', 'hostNetwork']), { file, line: 6, column: 3 });
});

t.test('lint: hostNetwork: yes, hostPID: On and a merged hostIPC each get their host-namespace finding', async (t) => {
  const LINT = 'test/fixtures/core/k8s-yaml/host.yaml';
  const r = await runCli(['lint', LINT, '--format', 'json']);
  t.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout);
  const host = out.findings.filter((f: { policy: string }) => f.policy === 'isolation.no-host-namespaces');
  t.same(
    host.map((f: { resource: { name: string }; path: string; source: { line: number } }) => [f.resource.name, f.path, f.source.line]).sort(),
    [
      ['merged', '$.spec.template.spec.hostIPC', 26],
      ['net-yes', '$.spec.hostNetwork', 6],
      ['pid-on', '$.spec.hostPID', 13],
    ],
  );
});

t.test('scan: a snapshot pod with hostNetwork: yes gets its host-namespace finding', async (t) => {
  const dir = await tempDir(t, 'fleetgate-k8s-yaml-');
  const fs = await import('node:fs/promises');
  await fs.mkdir(join(dir, 'snap'));
  await fs.mkdir(join(dir, 'repo'));
  await fs.writeFile(join(dir, 'repo', 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n');
  await fs.writeFile(
    join(dir, 'snap', 'pods.yaml'),
    'apiVersion: v1\nkind: Pod\nmetadata: {name: snap-yes, namespace: apps}\nspec:\n  hostNetwork: yes\n  containers: [{name: c, image: registry.local/c:1}]\n',
  );
  await fs.writeFile(join(dir, 'fleet.yaml'), 'repo: ./repo\nlayers:\n  - path: .\nclusters:\n  - name: c1\n    source: { snapshot: snap }\n');
  const r = await runCli(['scan', '--fleet', join(dir, 'fleet.yaml'), '--format', 'json']);
  t.not(r.code, 2, r.stderr);
  const report = JSON.parse(r.stdout);
  const findings = report.clusters[0].findings.filter((f: { policy: string }) => f.policy === 'isolation.no-host-namespaces');
  t.same(findings.map((f: { resource: { name: string }; path: string }) => [f.resource.name, f.path]), [['snap-yes', '$.spec.hostNetwork']]);
});
