import t from 'tap';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { builtinPolicies } from '../../policies/index.js';
import { runScan } from '../../scanner/cli.js';
import type { ClusterSource, FleetReport } from '../../scanner/scan.js';

/**
 * A large fleet through the streamed scan: 2,000 clusters (small ones, from an injected source, so the test stays
 * short) with every built-in policy, fleet-scope rules included. The report written cluster by cluster is one valid
 * JSON document in fleet order, and the scan's spool is gone afterwards.
 */

const CLUSTERS = 2000;

const source: ClusterSource = async (cluster) => {
  const i = cluster.index;
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { cluster: cluster.name } } };
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } };
  const deploy = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop', labels: { 'fleetgate.io/critical': 'true' } },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'web', image: i % 7 ? 'registry.example/web:1.0' : 'web:latest' }] } } },
  };
  return { objects: [ns, svc, deploy], warnings: [] };
};

t.test(`${CLUSTERS} clusters: the streamed report is valid JSON, complete and in fleet order; the spool is removed`, async (t) => {
  const dir = t.testdir({ repo: { base: { 'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n' } } });
  const lines = ['repo: ./repo', 'layers:', '  - path: base', 'clusters:'];
  for (let i = 0; i < CLUSTERS; i++) lines.push(`  - { name: c${i}, labels: { region: r${i % 5} }, source: { snapshot: clusters/c${i} } }`);
  await writeFile(join(dir, 'fleet.yaml'), `${lines.join('\n')}\n`);
  const tmp = join(dir, 'tmp');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(tmp);
  const before = process.env.TMPDIR;
  process.env.TMPDIR = tmp; // the spool goes under TMPDIR
  t.teardown(() => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  });
  const out = join(dir, 'report.json');
  const code = await runScan(['--fleet', join(dir, 'fleet.yaml'), '--format', 'json', '--output', out, '--concurrency', '16'], { builtins: builtinPolicies, source, stderr: () => {} });
  t.equal(code, 0);
  const report = JSON.parse(await readFile(out, 'utf8')) as FleetReport;
  t.equal(report.clusters.length, CLUSTERS);
  t.same(report.summary, { clusters: CLUSTERS, scored: CLUSTERS, unreachable: 0, error: 0 });
  t.ok(report.clusters.every((c, i) => c.name === `c${i}`), 'fleet order');
  t.type(report.score, 'number');
  t.ok(report.fleetRules && report.fleetRules.rules.length > 0, 'fleet rules ran over the whole fleet');
  t.ok(report.clusters.every((c) => c.fleetIndex === undefined && c.fleetActions === undefined), 'no fleet index left in an unsharded report');
  t.ok(report.clusters.some((c) => c.findings.some((f) => f.policy.includes('latest') || f.message.includes('latest'))), 'per-cluster findings are there');
  t.same(await readdir(tmp), [], 'the spool is removed');
});
