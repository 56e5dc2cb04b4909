import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { runScan } from '../../scanner/cli.js';
import { DesiredState, loadLayers } from '../../scanner/desired.js';
import { loadFleet } from '../../scanner/fleet.js';
import { ClusterReadError } from '../../scanner/live/index.js';
import { readSnapshot, scanFleet, type ClusterSource, type FleetReport } from '../../scanner/scan.js';
import { loadPolicySet } from '../../src/loading/policy-files.js';

const FIXTURE = 'test/fixtures/scanner/fleet/fleet.yaml';
const POLICIES = 'test/fixtures/scanner/policies';

async function setup() {
  const fleet = await loadFleet(FIXTURE);
  const layers = await loadLayers(fleet);
  const { policies, errors } = await loadPolicySet([POLICIES]);
  if (errors.length) throw new Error(JSON.stringify(errors));
  return { fleet, desired: new DesiredState(layers.layers), policies };
}

t.test('fixture fleet: layers by label, drift states, findings on live state, scores', async (t) => {
  const { fleet, desired, policies } = await setup();
  const report = await scanFleet(fleet, { policies, desired, concurrency: 2 });
  const by = Object.fromEntries(report.clusters.map((c) => [c.name, c]));
  t.same(report.clusters.map((c) => c.name), ['edge1', 'transit1', 'edge2', 'gone1'], 'fleet order kept');

  t.equal(by.edge1.score, 100);
  t.equal(by.edge1.inSync, 4);
  t.same(by.edge1.drift, [], 'server fields, defaults and extra live labels are not drift');

  t.same(by.transit1.layers, ['base', 'overlays/transit'], 'the edge overlay does not reach a transit cluster');
  t.same(
    by.transit1.drift.map((d) => [d.state, d.resource.kind, d.resource.name, d.diffs]),
    [
      ['modified', 'Deployment', 'web', [{ path: "$.spec.template.spec.containers[?(@.name=='web')].image", desired: 'web:1.0', live: 'web:latest' }]],
      ['missing', 'ConfigMap', 'transit-routes', []],
    ],
  );
  t.same(by.transit1.findings.map((f) => [f.policy, f.resource.name, f.path]), [['fixture.no-latest-tag', 'web', '$.spec.template.spec.containers[0].image']]);
  t.equal(by.transit1.score, 57.1); // (2*5 + 0 + 10) / (4*5 + 5 + 10)

  t.same(by.edge2.drift.map((d) => [d.state, d.resource.name]), [['missing', 'default-deny'], ['unmanaged', 'allow-all']]);
  t.same(by.edge2.findings.map((f) => [f.policy, f.resource.name]), [['fixture.namespace-has-networkpolicy', 'scratch']], 'cluster-scope policy sees the whole inventory');
  t.same(by.edge2.policies['fixture.namespace-has-networkpolicy'], { severity: 'critical', checks: 2, failed: 1 });
  t.equal(by.edge2.score, 60); // (3*5 + 5 + 10) / (5*5 + 5 + 20)
  t.notMatch(JSON.stringify(report), 'c3VwZXJzZWNyZXQ=', 'Secret data never reaches a report');

  t.equal(by.gone1.status, 'unreachable');
  t.equal(by.gone1.score, null);
  t.match(by.gone1.error, /does-not-exist.*ENOENT/);
  t.equal(report.score, 72.4, 'fleet score = mean of scored clusters');
  t.same(report.summary, { clusters: 4, scored: 3, unreachable: 1, error: 0 });
});

t.test('a failing source is reported with its reason (no credential), the others finish, concurrency is bounded', async (t) => {
  const { fleet, desired, policies } = await setup();
  let inFlight = 0;
  let maxInFlight = 0;
  const source: ClusterSource = async (cluster) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); // a slow cluster
      if (cluster.name === 'edge1') throw new ClusterReadError('Get "https://10.1.2.3:6443/api": dial tcp: connection refused (Authorization: Bearer s3cr3t-t0ken)', 'unreachable');
      if (cluster.name === 'transit1') throw new Error('boom token=abc123');
      return await readSnapshot(join('test/fixtures/scanner/fleet/clusters', cluster.name === 'gone1' ? 'edge2' : cluster.name));
    } finally {
      inFlight--;
    }
  };
  const report = await scanFleet(fleet, { policies, desired, concurrency: 2, source });
  t.equal(maxInFlight, 2, 'never more than --concurrency clusters in flight');
  const by = Object.fromEntries(report.clusters.map((c) => [c.name, c]));
  t.equal(by.edge1.status, 'unreachable');
  t.match(by.edge1.error, /connection refused/);
  t.equal(by.transit1.status, 'error');
  const text = JSON.stringify(report);
  t.notMatch(text, 's3cr3t-t0ken');
  t.notMatch(text, 'abc123');
  t.equal(by.edge2.status, 'ok');
  t.equal(by.gone1.status, 'ok');
  t.equal(report.score, 60);
});

async function scanCli(t: Tap.Test, args: string[]): Promise<{ code: number; out: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetgate-scan-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'report');
  let stderr = '';
  const code = await runScan([...args, '--output', out, '--no-builtins', '--policies', POLICIES], { stderr: (s) => void (stderr += s) });
  let text = '';
  try {
    text = await readFile(out, 'utf8');
  } catch {
    /* no report */
  }
  return { code, out: text, stderr };
}

t.test('CLI: json contract, --fail-below, every format', async (t) => {
  const json = await scanCli(t, ['--fleet', FIXTURE, '--format', 'json']);
  t.equal(json.code, 0);
  const report = JSON.parse(json.out) as FleetReport;
  t.equal(report.score, 72.4);
  for (const c of report.clusters) t.hasProps(c, ['name', 'labels', 'status', 'score', 'drift', 'findings']);
  t.equal((await scanCli(t, ['--fleet', FIXTURE, '--format', 'json', '--fail-below', '80'])).code, 1);
  t.equal((await scanCli(t, ['--fleet', FIXTURE, '--format', 'json', '--fail-below', '70'])).code, 0);

  const pretty = await scanCli(t, ['--fleet', FIXTURE, '--format', 'pretty']);
  t.match(pretty.out, /Fleet score 72\.4 \/ 100/);
  t.match(pretty.out, /gone1\s+unreachable/);
  t.ok(pretty.out.indexOf('transit1') < pretty.out.indexOf('edge1'), 'worst clusters first');
  t.match(pretty.out, /Top failing policies/);
  t.notMatch(pretty.out, /\u001b\[/, 'no colour in a file');

  const html = await scanCli(t, ['--fleet', FIXTURE, '--format', 'html']);
  t.match(html.out, /^<!doctype html>/);
  t.match(html.out, /<svg/);
  t.match(html.out, /Score per region/);
  t.match(html.out, /Pass rate per policy/);
  t.notMatch(html.out, /<script|<link|src="http|href="http/, 'no external asset, no script');

  const pr = await scanCli(t, ['--fleet', FIXTURE, '--format', 'policyreport']);
  const docs = parseAllDocuments(pr.out).map((d) => d.toJS());
  t.ok(docs.every((d) => d.apiVersion === 'wgpolicyk8s.io/v1alpha2'));
  const cpr = docs.filter((d) => d.kind === 'ClusterPolicyReport');
  t.equal(cpr.length, 4, 'one ClusterPolicyReport per cluster');
  const transit = docs.find((d) => d.kind === 'PolicyReport' && d.metadata.labels['fleetgate.io/cluster'] === 'transit1' && d.metadata.namespace === 'app');
  t.ok(transit.results.some((r: { policy: string; result: string }) => r.policy === 'fixture.no-latest-tag' && r.result === 'fail'));
  t.ok(transit.results.some((r: { policy: string; rule: string }) => r.policy === 'fleetgate.drift' && r.rule === 'missing'));
});

t.test('CLI: --shard I/N and scan merge give the unsharded report', async (t) => {
  const dir = t.testdir();
  const full = JSON.parse((await scanCli(t, ['--fleet', FIXTURE, '--format', 'json'])).out) as FleetReport;
  const files: string[] = [];
  for (const i of [0, 1, 2]) {
    const f = join(dir, `shard-${i}.json`);
    t.equal(await runScan(['--fleet', FIXTURE, '--format', 'json', '--shard', `${i}/3`, '--output', f, '--no-builtins', '--policies', POLICIES]), 0);
    files.push(f);
  }
  const shard0 = JSON.parse(await readFile(files[0], 'utf8')) as FleetReport;
  t.same(shard0.clusters.map((c) => c.name), ['edge1', 'gone1']);
  t.same(shard0.shard, { index: 0, count: 3 });
  const merged = join(dir, 'merged.json');
  t.equal(await runScan(['merge', ...files.reverse(), '--format', 'json', '--output', merged]), 0);
  const m = JSON.parse(await readFile(merged, 'utf8')) as FleetReport;
  t.same(m, full);
  t.equal(await runScan(['merge', files[0], files[0], '--format', 'json', '--output', merged]).catch(() => 2), 2, 'a cluster in two shards is refused');
});

t.test('CLI: unusable fleet file or arguments exit 2 with the location', async (t) => {
  const dir = t.testdir({ 'bad.yaml': 'repo: r\nlayers: [{ path: base }]\nclusters:\n  - name: a\n    source: { snapshot: x, context: y }\n' });
  const bad = await scanCli(t, ['--fleet', join(dir, 'bad.yaml')]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /bad\.yaml:5:13: clusters\[0\]\.source: must be either/);
  await t.rejects(runScan(['--fleet', FIXTURE, '--shard', '3/3']), /--shard must be I\/N/);
  await t.rejects(runScan(['--fleet', FIXTURE, '--concurrency', '0']), /--concurrency/);
  await t.rejects(runScan([]), /--fleet FILE is required/);
  t.equal(parse('a: 1').a, 1);
});
