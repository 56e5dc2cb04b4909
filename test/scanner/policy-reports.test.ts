// scan --format policyreport | openreports: objects Policy Reporter, Kyverno's UI and kubectl accept — validated
// against the published CRD schemas (vendored in test/fixtures/crds), counts that match their results, each
// namespace's findings in that namespace's report, cluster-scoped objects in the cluster report.
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { loadCrd } from '../helpers/crd-schema.js';

type Obj = Record<string, any>;
const FLEET = 'examples/fleet/fleet.yaml';
const API = {
  policyreport: { cluster: loadCrd('wgpolicyk8s.io_clusterpolicyreports.yaml'), namespaced: loadCrd('wgpolicyk8s.io_policyreports.yaml') },
  openreports: { cluster: loadCrd('openreports.io_clusterreports.yaml'), namespaced: loadCrd('openreports.io_reports.yaml') },
};
/** Kinds the examples hold that have no namespace. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'Node', 'CustomResourceDefinition', 'ValidatingWebhookConfiguration']);

async function scan(args: string[]): Promise<Obj[]> {
  const r = await runCli(['scan', '--fleet', FLEET, ...args]);
  if (r.code !== 0) throw new Error(`scan exited ${r.code}: ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS());
}

for (const api of ['policyreport', 'openreports'] as const) {
  for (const passes of [false, true]) {
    t.test(`--format ${api}${passes ? ' --report-passes' : ''}`, async (t) => {
      const docs = await scan(['--format', api, ...(passes ? ['--report-passes'] : [])]);
      const { cluster, namespaced } = API[api];
      const clusterDocs = docs.filter((d) => d.kind === cluster.kind);
      const nsDocs = docs.filter((d) => d.kind === namespaced.kind);
      t.equal(clusterDocs.length + nsDocs.length, docs.length, `only ${cluster.kind} and ${namespaced.kind}`);
      t.equal(clusterDocs.length, 6, `one ${cluster.kind} per cluster`);
      t.ok(nsDocs.length > 5, `${namespaced.kind}s per namespace (${nsDocs.length})`);

      for (const d of docs) {
        const name = `${d.kind} ${d.metadata.namespace ?? ''}/${d.metadata.name} (${d.metadata.labels['fleetgate.io/cluster']})`;
        t.same((d.kind === cluster.kind ? cluster : namespaced).problems(d), [], `${name}: valid against the published CRD schema`);
        const count = (r: string) => d.results.filter((x: Obj) => x.result === r).length;
        t.same(d.summary, { pass: count('pass'), fail: count('fail'), warn: count('warn'), error: count('error'), skip: count('skip') }, `${name}: summary counts its results`);
        t.notOk(d.scope, `${name}: no scope (a report for a whole cluster or namespace; results name their objects)`);
        for (const r of d.results) {
          for (const res of r.resources ?? []) {
            if (d.kind === namespaced.kind) t.equal(res.namespace, d.metadata.namespace, `${name}: ${res.kind}/${res.name} is in the report's namespace`);
            else t.ok(res.namespace === undefined && CLUSTER_SCOPED.has(res.kind), `${name}: ${res.kind}/${res.name} is cluster-scoped`);
          }
        }
      }
      const all = docs.flatMap((d) => d.results);
      t.ok(all.some((r: Obj) => r.result === 'fail'), 'failed checks are there');
      t.equal(all.some((r: Obj) => r.result === 'pass'), passes, passes ? 'pass results with --report-passes' : 'no pass results without --report-passes');
      if (passes) {
        const pass = all.find((r: Obj) => r.result === 'pass' && r.policy !== 'fleetgate.drift');
        t.match(pass.message, /^\d+ of \d+ checks passed$/);
        t.ok(Number(pass.properties.passed) > 0 && Number(pass.properties.checks) >= Number(pass.properties.passed));
      }
      const critical = all.filter((r: Obj) => r.properties?.severity === 'critical' || r.severity === 'critical');
      t.ok(critical.length > 0, 'a critical finding is in the examples');
      for (const r of critical) t.equal(r.severity, api === 'openreports' ? 'critical' : 'high', 'critical where the API knows it, high with properties.severity otherwise');
      if (api === 'openreports') t.ok(docs.every((d) => d.source === 'fleetgate'), 'report-level source');
    });
  }
}

t.test('the CRD validation would refuse what fleetgate used to write', async (t) => {
  const { cluster } = API.policyreport;
  const old = {
    apiVersion: 'wgpolicyk8s.io/v1alpha2',
    kind: 'ClusterPolicyReport',
    metadata: { name: 'fleetgate-par01' },
    scope: { apiVersion: 'v1', kind: 'Cluster', name: 'par01' },
    summary: { pass: 120, fail: 1, warn: 0, error: 0, skip: 0 },
    results: [{ policy: 'x', result: 'fail', severity: 'critical', message: 'm', bogus: 1 }],
  };
  const problems = cluster.problems(old);
  t.ok(problems.some((p) => p.includes('severity must be equal to one of the allowed values')), 'critical is not a v1alpha2 severity');
  t.ok(problems.some((p) => p.includes('(bogus)')), 'an unknown field');
  t.same(API.openreports.namespaced.problems({ ...old, apiVersion: 'openreports.io/v1alpha1', kind: 'Report', results: [] }).filter((p) => p.includes('namespace')), ['a namespaced report without metadata.namespace']);
});
