// scan --publish-reports: each live cluster gets its own reports, server-side applied over real HTTPS into the API
// double (which checks them against the published CRD schemas as the API server would), idempotently; reports of
// earlier runs that are no longer written are deleted, reports of other tools are left alone, and a cluster that
// forbids the write says so without failing the scan.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify, parseAllDocuments } from 'yaml';
import { loadPaths, type KubeObject } from '../../../src/index.js';
import { fixture } from '../../helpers/api-fixtures.js';
import { enableWrites, REPORT_TYPES } from '../../../testkit/api-writes.js';
import { ROOT, runCli } from '../../helpers/cli.js';
import { loadCrd } from '../../helpers/crd-schema.js';

type Obj = Record<string, any>;
const EXAMPLES = join(ROOT, 'examples', 'fleet');
const crds = {
  PolicyReport: loadCrd('wgpolicyk8s.io_policyreports.yaml'),
  ClusterPolicyReport: loadCrd('wgpolicyk8s.io_clusterpolicyreports.yaml'),
  Report: loadCrd('openreports.io_reports.yaml'),
  ClusterReport: loadCrd('openreports.io_clusterreports.yaml'),
};
const writable = (Object.keys(crds) as (keyof typeof crds)[]).map((k) => ({ type: REPORT_TYPES[k], validate: (o: Obj) => crds[k].problems(o) }));
const REPORT_KINDS = new Set(Object.keys(crds));
const reportsOf = (objects: KubeObject[]) => objects.filter((o) => REPORT_KINDS.has(o.kind));
const strip = (o: Obj) => {
  const { managedFields: _m, ...metadata } = o.metadata;
  return { ...o, metadata };
};
const logLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((l) => l.msg === 'published reports');

t.test('scan --publish-reports applies each cluster its own reports', async (t) => {
  const fx = await fixture();
  t.teardown(() => fx.close());
  const par01 = (await loadPaths([join(EXAMPLES, 'clusters', 'par01')], { positions: false })).resources.map((r) => r.object);
  const retired = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'retired', labels: { 'fleetgate.io/system': 'true' } } };
  const stale = {
    apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport',
    metadata: { name: 'fleetgate-par01', namespace: 'retired', labels: { 'app.kubernetes.io/managed-by': 'fleetgate', 'fleetgate.io/cluster': 'par01' } },
    summary: { pass: 0, fail: 1, warn: 0, error: 0, skip: 0 }, results: [{ policy: 'old', result: 'fail' }],
  };
  const kyverno = {
    apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport',
    metadata: { name: 'kyverno-report', namespace: 'retired', labels: { 'app.kubernetes.io/managed-by': 'kyverno' } },
    results: [{ policy: 'require-labels', result: 'pass' }],
  };
  const kubeconfigs = {
    par01: fx.cluster('par01', { objects: [...par01, retired, stale, kyverno] as KubeObject[] }),
    fra01: fx.cluster('fra01', { objects: par01, faults: { forbidden: ['clusterpolicyreports', 'policyreports'] } }),
  };
  enableWrites(fx.api.cluster('par01'), writable);
  enableWrites(fx.api.cluster('fra01'), writable);
  const fleetFile = join(fx.dir, 'fleet.yaml');
  const examples = parseAllDocuments(readFileSync(join(EXAMPLES, 'fleet.yaml'), 'utf8'))[0].toJS();
  writeFileSync(fleetFile, stringify({
    ...examples,
    repo: join(EXAMPLES, 'config-repo'),
    clusters: [
      { name: 'par01', labels: { region: 'europe', country: 'fr', type: 'edge', cohort: '1' }, source: { kubeconfig: kubeconfigs.par01, context: 'par01' } },
      { name: 'fra01', labels: { region: 'europe', country: 'de', type: 'transit', cohort: '2' }, source: { kubeconfig: kubeconfigs.fra01, context: 'fra01' } },
      { name: 'syd01', labels: { region: 'apac', country: 'au', type: 'transit', cohort: '3' }, source: { snapshot: join(EXAMPLES, 'clusters', 'syd01') } },
    ],
  }));

  const run = await runCli(['scan', '--fleet', fleetFile, '--format', 'policyreport', '--publish-reports']);
  t.equal(run.code, 0, `the scan succeeds although fra01 refuses the write: ${run.stderr}`);
  const expected = parseAllDocuments(run.stdout).map((d) => d.toJS()).filter((d) => d.metadata.labels['fleetgate.io/cluster'] === 'par01');
  const stored = reportsOf(fx.api.cluster('par01').objects);
  t.same(
    stored.filter((o) => o.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'fleetgate').map(strip),
    expected,
    "par01 holds exactly the par01 reports the scan printed (and no other cluster's)",
  );
  t.ok(stored.every((o) => !o.metadata?.managedFields || (o.metadata.managedFields as Obj[])[0].manager === 'fleetgate'), 'applied by field manager fleetgate');
  t.ok(stored.some((o) => o.metadata?.name === 'kyverno-report'), "another tool's report is left alone");
  t.notOk(stored.some((o) => o.metadata?.namespace === 'retired' && o.metadata?.name === 'fleetgate-par01'), "an earlier run's report that is no longer written is deleted");
  const applies = fx.api.cluster('par01').requests.filter((r) => r.method === 'PATCH');
  t.ok(applies.length === expected.length && applies.every((r) => r.query.fieldManager === 'fleetgate' && r.query.force === 'true'), 'one server-side apply per report, forced, as fleetgate');

  const logs = logLines(run.stderr);
  t.same(logs.map((l) => l.cluster).sort(), ['fra01', 'par01'], 'one log line per live cluster (a snapshot has no cluster to publish into)');
  const p = logs.find((l) => l.cluster === 'par01');
  t.same([p.level, p.applied, p.deleted, p.errors], ['info', expected.length, 1, undefined]);
  const f = logs.find((l) => l.cluster === 'fra01');
  t.equal(f.level, 'warn');
  t.equal(f.applied, 0);
  t.equal(f.errors.length, 1, 'a refused write is said once, not once per report');
  t.match(f.errors[0], /forbidden: User "fleetgate-scanner" cannot patch resource "clusterpolicyreports"/, 'the refusal says what RBAC is missing');
  t.notMatch(run.stderr, new RegExp(fx.api.cluster('par01').token), 'no credential in the logs');

  // Again: the same objects, nothing deleted.
  const again = await runCli(['scan', '--fleet', fleetFile, '--format', 'json', '--publish-reports']);
  t.equal(again.code, 0);
  t.same(reportsOf(fx.api.cluster('par01').objects).map(strip), stored.map(strip), 'publishing the same scan twice changes nothing');
  t.same(logLines(again.stderr).find((l) => l.cluster === 'par01').deleted, 0);

  // OpenReports beside them.
  const open = await runCli(['scan', '--fleet', fleetFile, '--format', 'json', '--publish-reports', '--report-api', 'openreports']);
  t.equal(open.code, 0);
  const openStored = reportsOf(fx.api.cluster('par01').objects).filter((o) => o.apiVersion === 'openreports.io/v1alpha1');
  t.equal(openStored.filter((o) => o.kind === 'ClusterReport').length, 1);
  t.equal(openStored.filter((o) => o.kind === 'Report').length, expected.length - 1, 'as many Reports as PolicyReports');
});
