import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definePolicy } from '../../src/authoring/index.js';
import { runTestFiles } from '../../src/loading/index.js';
import { pushAll } from '../../src/model/index.js';

// `to.push(...items)` with 150,000 items overflows V8's call stack ("Maximum call stack size exceeded").
const N = 150_000;

t.test('pushAll appends more items than push(...spread) can take', async (t) => {
  const items = Array.from({ length: N }, (_, i) => i);
  t.throws(() => [].push(...(items as never[])), RangeError, 'the spread overflows at this size');
  const to = [-1];
  t.equal(pushAll(to, items), to);
  t.equal(to.length, N + 1);
  t.equal(to[N], N - 1);
});

t.test('a PolicyTest case whose file holds 150,000 objects is judged', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetgate-large-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const items = Array.from({ length: N }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'a' } }));
  items[N - 1].metadata.namespace = 'default';
  await writeFile(join(dir, 'many.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  await writeFile(
    join(dir, 'test.yaml'),
    'apiVersion: fleetgate.io/v1alpha1\nkind: PolicyTest\nmetadata: {name: many}\nspec:\n  policy: test.no-default\n  cases:\n    - {name: the last of many, expect: fail, file: many.json}\n',
  );
  const policy = definePolicy({
    id: 'test.no-default',
    title: 'nothing in default',
    area: 'test',
    severity: 'low',
    action: 'deny',
    match: { kinds: ['ConfigMap'] },
    validate({ object, report }) {
      if (object.metadata?.namespace === 'default') report('in default');
    },
    examples: { pass: [{}], fail: [{}] },
  });
  const { results, errors } = await runTestFiles([join(dir, 'test.yaml')], [policy]);
  t.same(errors, []);
  t.equal(results.length, 1);
  t.match(results[0], { name: 'the last of many', ok: true });
});
