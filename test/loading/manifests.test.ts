import t from 'tap';
import { join } from 'node:path';
import { loadPaths, loadText } from '../../src/loading/manifests.js';
import { ROOT } from '../helpers/cli.js';

const fixtures = join(ROOT, 'test/fixtures/core/lint');

t.test('multi-document YAML: a broken document is reported with file:line, the rest is kept', async (t) => {
  const r = await loadPaths([join(fixtures, 'multi.yaml')]);
  t.same(r.resources.map((x) => x.object.metadata?.name), ['agent', 'host-pid']);
  t.equal(r.errors.length, 1);
  t.match(r.errors[0], { file: join(fixtures, 'multi.yaml'), line: 21, message: /document starting at line 15 skipped/ });
});

t.test('paths map to file:line:column, in YAML and JSON, also inside a List', async (t) => {
  const y = await loadPaths([join(fixtures, 'multi.yaml')]);
  t.same(y.resources[0].locate?.(['spec', 'template', 'spec', 'hostNetwork']), { file: join(fixtures, 'multi.yaml'), line: 10, column: 7 });
  t.same(y.resources[0].locate?.(['spec', 'template', 'spec', 'containers', 0, 'resources', 'limits']), { file: join(fixtures, 'multi.yaml'), line: 12, column: 11 }, 'a missing field points at its deepest existing parent');
  t.same(y.resources[1].locate?.(['spec', 'hostPID']), { file: join(fixtures, 'multi.yaml'), line: 28, column: 3 });
  const j = await loadPaths([join(fixtures, 'list.json')]);
  t.same(j.resources.map((x) => x.object.metadata?.name), ['fine', 'ipc']);
  t.same(j.resources[1].locate?.(['spec', 'hostIPC']), { file: join(fixtures, 'list.json'), line: 15, column: 17 });
});

t.test('folders are walked recursively; non-Kubernetes documents are skipped, not errors', async (t) => {
  const r = await loadPaths([fixtures]);
  t.equal(r.files, 3);
  t.equal(r.skipped, 1);
  t.equal(r.resources.length, 5);
  const missing = await loadPaths([join(fixtures, 'nope.yaml')]);
  t.match(missing.errors[0], { message: /cannot read: ENOENT/ });
});

t.test('hostile input is bounded: alias bombs, oversized input, deep nesting, binary garbage', async (t) => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  const r = loadText(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  ${bomb.join('\n  ')}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n`, 'bomb.yaml');
  t.same(r.resources.map((x) => x.object.metadata?.name), ['ok'], 'the bomb is refused, the next document is kept');
  t.match(r.errors[0], { file: 'bomb.yaml', line: 1, message: /alias/i });

  const big = loadText('x'.repeat(2048), 'big.yaml', { maxFileBytes: 1024 });
  t.match(big.errors[0], { message: /over the limit/ });

  const deep = loadText(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, 'deep.yaml');
  t.ok(deep.errors.length + deep.resources.length >= 1, 'deep nesting yields a result or an error, never a crash');

  const garbage = loadText(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString('latin1'), 'garbage.yaml');
  t.ok(garbage.errors.length > 0, 'binary garbage is an error');
  t.equal(garbage.resources.length, 0);
});

t.test('many documents in one file', async (t) => {
  const docs = Array.from({ length: 10000 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}}\n`).join('---\n');
  const r = loadText(docs, 'many.yaml');
  t.equal(r.resources.length, 10000);
  t.equal(r.errors.length, 0);
});

t.test('a repeated key is an error, but the document is still linted with the last value', async (t) => {
  const r = loadText('apiVersion: v1\nkind: Pod\nmetadata: {name: dup}\nspec:\n  hostPID: false\n  hostPID: true\n', 'dup.yaml');
  t.equal(r.resources.length, 1);
  t.equal((r.resources[0].object.spec as { hostPID: boolean }).hostPID, true);
  t.match(r.errors, [{ file: 'dup.yaml', line: 6, message: /unique.*linted with the last value/ }]);
});

t.test('objects re-built through JSON keep every value JSON cannot carry, and aliases stay shared', async (t) => {
  const plain = loadText('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {x: "1"}}\ndata: {k: v}\n', 'a.yaml');
  t.same(plain.resources[0].object, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { x: '1' } }, data: { k: 'v' } });
  t.same(plain.resources[0].locate?.(['data', 'k']), { file: 'a.yaml', line: 4, column: 8 });
  const odd = loadText('apiVersion: v1\nkind: X\nmetadata: {name: b}\nspec: {a: .inf, b: -.Inf, c: .nan, d: -0}\n', 'b.yaml');
  const spec = odd.resources[0].object.spec as Record<string, number>;
  t.equal(spec.a, Infinity);
  t.equal(spec.b, -Infinity);
  t.ok(Number.isNaN(spec.c));
  t.ok(Object.is(spec.d, -0), '-0 stays -0');
  const aliased = loadText('apiVersion: v1\nkind: X\nmetadata: {name: c}\nspec:\n  a: &x {k: v}\n  b: *x\n', 'c.yaml');
  const s = aliased.resources[0].object.spec as Record<string, unknown>;
  t.equal(s.a, s.b, 'an alias is the same object, as toJS() made it');
  t.same(aliased.resources[0].locate?.(['spec', 'b', 'k']), { file: 'c.yaml', line: 5, column: 10 });
});

t.test('readSync: the same resources, errors and counts as the asynchronous read', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'fg-readsync-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'a.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }] }));
  await writeFile(join(dir, 'b.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n---\nkind: [broken\n');
  await writeFile(join(dir, 'c.yaml'), 'x'.repeat(2048));
  for (const positions of [true, false]) {
    const opts = { positions, maxFileBytes: 1024 };
    const plain = await loadPaths([dir], opts);
    const sync = await loadPaths([dir], { ...opts, readSync: true });
    t.same(sync, plain, `positions ${positions}`);
    t.ok(plain.errors.some((e) => /over the limit/.test(e.message)) && plain.errors.some((e) => e.file.endsWith('b.yaml')), 'both kinds of error are in it');
  }
  const missing = await loadPaths([join(dir, 'a.json')], { readSync: true, maxFileBytes: 1 });
  t.match(missing.errors[0].message, /over the limit/);
});
