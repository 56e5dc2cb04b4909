import t from 'tap';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { emitChunks, formatJson, ITEMS, jsonChunks, jsonReportChunks } from '../../src/report/index.js';
import { tempDir } from '../helpers/cli.js';

/** Reports written in pieces are byte for byte `JSON.stringify(value, null, 2) + '\n'`. */

const items = [{ a: 1, nested: { list: [1, 'two\nlines', null], empty: [] } }, 'plain', 3, { '"quoted"': 'fleetgate:items:x' }];

t.test('the pieces join to JSON.stringify of the whole, at any depth, with or without items', async (t) => {
  const whole = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
  t.equal([...jsonChunks({ items: ITEMS, after: { x: 1 } }, items)].join(''), whole({ items, after: { x: 1 } }));
  t.equal([...jsonChunks({ runs: [{ deep: { results: ITEMS } }], z: [] }, items)].join(''), whole({ runs: [{ deep: { results: items } }], z: [] }));
  t.equal([...jsonChunks({ items: ITEMS }, [])].join(''), whole({ items: [] }));
  t.equal([...jsonChunks({ items: ITEMS }, [1, 2], (n) => ({ n, sq: n * n }))].join(''), whole({ items: [{ n: 1, sq: 1 }, { n: 2, sq: 4 }] }));
  const report = { findings: items as never[], errors: [{ file: 'a.yaml', message: 'fleetgate:items:' }], summary: {} as never };
  t.equal([...jsonReportChunks(report)].join(''), formatJson(report), 'the lint report');
});

t.test('emitChunks writes the file atomically, leaving no temporary file', async (t) => {
  const dir = await tempDir(t, 'fleetgate-stream-');
  const many = Array.from({ length: 5000 }, (_, i) => ({ i, text: 'x'.repeat(300) }));
  const out = join(dir, 'report.json');
  await emitChunks(jsonChunks({ items: ITEMS }, many), out);
  t.equal(await readFile(out, 'utf8'), JSON.stringify({ items: many }, null, 2) + '\n');
  t.same(await readdir(dir), ['report.json']);
  await t.rejects(emitChunks(jsonChunks({ items: ITEMS }, many), join(dir, 'missing', 'r.json')), { code: 'ENOENT' });
});
