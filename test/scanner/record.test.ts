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
