import t from 'tap';
import { FindingStore, formatJson, sortFindings } from '../../src/report/index.js';
import type { Finding } from '../../src/model/index.js';

const ref = { apiVersion: 'v1', kind: 'Pod', name: 'p', namespace: 'a' };
const other = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd' };
const findings: Finding[] = [
  { policy: 'b.x', severity: 'high', action: 'deny', message: 'm1', resource: ref, path: '$.spec', source: { file: 'f.yaml', line: 9, column: 3 } },
  { policy: 'a.x', severity: 'low', action: 'audit', message: 'm1', resource: ref, path: '$.spec', source: { file: 'f.yaml', line: 9, column: 3 } },
  { policy: 'c.x', severity: 'medium', action: 'warn', message: 'policy error: kaput', resource: other, path: '$', error: true },
  { policy: 'd.x', severity: 'low', action: 'warn', message: 'm (also e.x)', resource: other, path: '$.a', also: ['e.x'] },
  { policy: 'f.x', severity: 'low', action: 'warn', message: 'on a cluster', resource: other, path: '$.b', cluster: 'par01' },
  // kept whole: a key the rows do not describe, a source in another key order, a line that is not an int32
  { policy: 'g.x', severity: 'low', action: 'warn', message: 'odd', resource: ref, path: '$', extra: 1 } as Finding,
  { policy: 'h.x', severity: 'low', action: 'warn', message: 'odd', resource: ref, path: '$', source: { line: 1, file: 'a.yaml', column: 1 } },
  { policy: 'i.x', severity: 'low', action: 'warn', message: 'odd', resource: ref, path: '$', source: { file: 'a.yaml', line: 1.5, column: 1 } },
  { severity: 'low', policy: 'j.x', action: 'warn', message: 'keys in another order', resource: ref, path: '$' } as Finding,
];

t.test('findings come back with the same keys, order and values, sorted as sortFindings sorts', async (t) => {
  const store = new FindingStore();
  for (const f of findings) store.add(structuredClone(f));
  t.equal(store.length, findings.length);
  t.equal(JSON.stringify([...store]), JSON.stringify(findings), 'as added before sorting');
  const sorted = sortFindings(structuredClone(findings));
  t.equal(JSON.stringify([...store.sort()]), JSON.stringify(sorted), 'sorted');
  const report = { errors: [], summary: {} as never };
  t.equal(formatJson({ ...report, findings: [...store] }), formatJson({ ...report, findings: sorted }));
  for (const [i, f] of [...store].entries()) t.same(Object.keys(f), Object.keys(sorted[i]), `keys of ${sorted[i].policy}`);
});
