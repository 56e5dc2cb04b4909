// `fleetgate lint --fleet FILE` (a spawned CLI) on the example fleet: the config repo judged before it merges —
// every cluster's desired state (base + the overlays its labels choose) with that cluster's context, then the fleet
// rules over all clusters. Fleets built for it: lint-fleet-context.test.ts; arguments: lint-fleet-args.test.ts.
import t from 'tap';
import { runCli } from '../helpers/cli.js';

const show = (f: any) => `${f.cluster} ${f.action} ${f.source?.file}:${f.source?.line} ${f.path}`;
const byPolicy = (report: any, id: string) => report.findings.filter((f: any) => f.policy === id).map(show);

t.test('the example fleet: the stale federated endpoint of par01 is found in the config repo, with its cluster', async (t) => {
  const r = await runCli(['lint', '--fleet', 'examples/fleet/fleet.yaml', '--format', 'json']);
  t.equal(r.code, 1, `deny findings fail the run (${r.stderr})`);
  const report = JSON.parse(r.stdout);
  t.same(Object.keys(report), ['findings', 'errors', 'summary'], "lint's JSON shape (DESIGN)");
  t.same(report.errors, []);
  t.same(byPolicy(report, 'mesh.global-endpoints-exist'), ['par01 warn examples/fleet/config-repo/overlays/country-fr/mesh-imports.yaml:21 $.spec.endpoints[1]']);
  t.match(report.findings.find((f: any) => f.policy === 'mesh.global-endpoints-exist').message, /points to cluster "ams01", which runs no Service payments\/ledger/);
  t.ok(report.findings.every((f: any) => typeof f.cluster === 'string'), 'every finding names its cluster');
  t.equal(report.summary.clusters, 6);
  t.notOk(report.summary.fleetRules.skipped);
  t.same(report.summary.fleetRules.rules.map((x: any) => [x.policy, x.findings]).sort(), [
    ['fleet.blast-radius', 0],
    ['fleet.overlay-consistency', 0],
    ['gdpr.mesh-residency', 0],
    ['mesh.global-endpoints-exist', 1],
  ]);
  const pretty = await runCli(['lint', '--fleet', 'examples/fleet/fleet.yaml', '--format', 'pretty']);
  t.match(pretty.stdout, /country-fr\/mesh-imports\.yaml:21:7\s+high\s+warn\s+mesh\.global-endpoints-exist\n.*ams01.*\n.*ServiceEntry payments\/ledger-global.*\n\s+on par01\n/);
  t.match(pretty.stdout, /Fleet rules\n\s+gdpr\.mesh-residency\s+no findings/);
  t.match(pretty.stdout, /across 6 clusters/);
  const sarif = JSON.parse((await runCli(['lint', '--fleet', 'examples/fleet/fleet.yaml', '--format', 'sarif'])).stdout);
  const result = sarif.runs[0].results.find((x: any) => x.ruleId === 'mesh.global-endpoints-exist');
  t.same(result.properties.clusters, ['par01']);
  t.equal(result.locations[0].physicalLocation.artifactLocation.uri, 'examples/fleet/config-repo/overlays/country-fr/mesh-imports.yaml');
  const probes = sarif.runs[0].results.filter((x: any) => x.ruleId === 'practices.required-probes').map((x: any) => x.message.text);
  const envoy = probes.filter((m: string) => m.includes('"envoy"'));
  t.equal(envoy.length, 2, 'one result per manifest field (readiness, liveness), not one per cluster');
  t.ok(envoy.every((m: string) => m.endsWith('on 2 clusters: fra01, syd01)')), 'naming the clusters it fails on');
});
