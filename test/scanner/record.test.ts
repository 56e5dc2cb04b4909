import t from 'tap';
import { ClusterRecord } from '../../scanner/record.js';
import type { ClusterReport } from '../../scanner/scan.js';

/**
 * A cluster's report serialized once (scanner/record.ts): its body is the text the JSON report writes for it
 * (`JSON.stringify(report, null, 2)` indented by four), it parses back to the report, and a change spliced into it
 * gives the text of the changed report.
 */

/** What writers.ts writeJson writes for a cluster object. */
const written = (c: unknown) => JSON.stringify(c, null, 2).replace(/\n/g, '\n    ');

function sample(name: string): ClusterReport {
  return {
    name,
    index: 3,
    labels: { region: 'europe', 'x/y': 'a "quoted" value' },
    status: 'ok',
    error: undefined,
    score: 87.5,
    objectScore: null,
    layers: ['base', 'overlays/edge'],
    drift: [],
    findings: [{ policy: 'p', message: 'nested\\nnot a newline', resource: { kind: 'Pod', name: 'a' }, path: '$.spec' }],
    policies: { p: { severity: 'high', checks: 2, failed: 1 } },
    warnings: [],
  } as unknown as ClusterReport;
}

for (const name of ['c-ascii', 'c-ünïcödé ✓']) {
  t.test(`${name}: body, parse and splice`, async (t) => {
    const report = sample(name);
    const rec = ClusterRecord.of(report);
    t.equal(rec.body.toString('utf8'), written(report), 'the body is the JSON report text');
    t.same(rec.keys, Object.keys(JSON.parse(JSON.stringify(report))), 'members as JSON keeps them (undefined dropped)');
    const back = ClusterRecord.decode(Buffer.from(rec.bytes));
    t.same(back.report(), JSON.parse(JSON.stringify(report)), 'parses back to the report');
    t.equal(back.jsonWith(), back.body, 'no change: the body itself');
    t.equal(back.jsonWith((c) => void c.name).toString('utf8'), written(report), 'a member only read: the same text');
    const change = (c: ClusterReport) => {
      c.score = 12.3;
      Object.assign(c.policies, { q: { severity: 'low', checks: 1, failed: 0 } });
      delete (c as Partial<ClusterReport>).warnings;
      (c as unknown as Record<string, unknown>).added = { x: [1, 2] };
    };
    const expected = JSON.parse(JSON.stringify(report)) as ClusterReport;
    change(expected);
    t.equal(back.jsonWith(change).toString('utf8'), written(expected), 'changed, removed and added members spliced in');
  });
}

t.test('insertSorted: items merged into a sorted array member, as a stable sort of the whole array gives', async (t) => {
  type F = { policy: string; resource: { kind: string; name: string }; message: string; also?: { nested: { deep: number[] } } };
  const by = (a: F, b: F) => (a.resource.name < b.resource.name ? -1 : a.resource.name > b.resource.name ? 1 : 0);
  const f = (name: string, message: string, nested = false): F => ({
    policy: 'p',
    resource: { kind: 'Pod', name },
    message,
    ...(nested ? { also: { nested: { deep: [1, 2] } } } : {}),
  });
  const existing = ['b', 'd', 'd', 'f', 'h'].map((n, i) => f(n, `old ${i}`, i % 2 === 0));
  const cases: [string, F[], F[]][] = [
    ['before all, between, equal (after the equal ones), after all', existing, [f('z', 'new z'), f('a', 'new a'), f('d', 'new d1', true), f('d', 'new d2'), f('e', 'new e')]],
    ['into an empty array', [], [f('c', 'new c'), f('a', 'new a')]],
    ['one element, both sides', [f('m', 'old m')], [f('n', 'new n'), f('a', 'new a'), f('m', 'new m')]],
    ['nothing to add', existing, []],
  ];
  for (const [what, findings, items] of cases) {
    const report = { ...sample('c'), findings } as unknown as ClusterReport;
    const back = ClusterRecord.decode(Buffer.from(ClusterRecord.of(report).bytes));
    const expected = JSON.parse(JSON.stringify(report)) as { findings: F[] };
    expected.findings = [...expected.findings, ...JSON.parse(JSON.stringify(items))].sort(by);
    const got = back.jsonWith((_c, insertSorted) => insertSorted('findings', items, by)).toString('utf8');
    t.equal(got, written(expected), what);
    t.same(JSON.parse(got).findings.map((x: F) => x.message), expected.findings.map((x) => x.message), `${what}: order`);
  }
  const report = { ...sample('c'), findings: existing } as unknown as ClusterReport;
  const back = ClusterRecord.decode(Buffer.from(ClusterRecord.of(report).bytes));
  const read = back.jsonWith((c, insertSorted) => {
    t.equal(c.findings.length, existing.length, 'the member can still be read');
    insertSorted('findings', [f('c', 'new c')], by);
  });
  t.same(JSON.parse(read.toString('utf8')).findings.map((x: F) => x.resource.name), ['b', 'c', 'd', 'd', 'f', 'h'], 'a member read and merged into');
});
