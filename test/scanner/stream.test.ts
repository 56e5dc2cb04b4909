import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinPolicies } from '../../policies/index.js';
import { runScan } from '../../scanner/cli.js';
import { DesiredState, loadLayers } from '../../scanner/desired.js';
import { loadFleet } from '../../scanner/fleet.js';
import { formatHtml } from '../../scanner/html.js';
import { formatPolicyReport, formatJson, formatPretty } from '../../scanner/report.js';
import { formatReports } from '../../scanner/policy-reports.js';
import { scanFleet } from '../../scanner/scan.js';
import { generate } from '../../bench/scan.js';

/**
 * The streamed scan (scanner/stream.ts: spool, fleet rules after every cluster, writers reading one cluster at a
 * time) against the in-memory scan it replaced in the CLI (scanFleet + the string formatters, which still serve
 * tests and the watch): the same bytes, for every format, on the example fleet and on a generated fleet.
 */

const EXAMPLE = 'examples/fleet/fleet.yaml';

async function inMemory(file: string) {
  const fleet = await loadFleet(file);
  const layers = await loadLayers(fleet);
  return scanFleet(fleet, { policies: builtinPolicies, desired: new DesiredState(layers.layers), concurrency: 3 });
}

async function streamed(t: Tap.Test, file: string, format: string, extra: string[] = []): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetgate-stream-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, `report.${format}`);
  let stderr = '';
  const code = await runScan(['--fleet', file, '--format', format, '--output', out, '--concurrency', '3', ...extra], { builtins: builtinPolicies, stderr: (s) => void (stderr += s) });
  t.equal(code, 0, `scan --format ${format} exits 0 ${stderr}`);
  return readFile(out, 'utf8');
}

/** The header line with the scan's time and the config commit (the in-memory formatter is given neither). */
const noTime = (html: string) => html.replace(/<p>Scanned .*<\/p>/, '<p>Scanned</p>');

t.test('example fleet: every format streams the bytes the in-memory formatters give', async (t) => {
  const report = await inMemory(EXAMPLE);
  t.ok(report.fleetRules, 'the example fleet runs fleet-scope rules (the streamed scan runs them after every cluster)');
  t.equal(await streamed(t, EXAMPLE, 'json'), formatJson(report), 'json');
  t.equal(await streamed(t, EXAMPLE, 'pretty'), formatPretty(report, (_c, s) => s), 'pretty');
  t.equal(await streamed(t, EXAMPLE, 'policyreport'), formatPolicyReport(report), 'policyreport');
  t.equal(await streamed(t, EXAMPLE, 'openreports', ['--report-passes']), formatReports(report, 'openreports', { passes: true }), 'openreports with passes');
  const html = await streamed(t, EXAMPLE, 'html');
  t.match(html, /<p>Scanned \d{4}-/);
  t.equal(noTime(html), noTime(formatHtml(report)), 'html');
});

t.test('generated fleet (bench generator, 24 clusters): the streamed JSON and pretty report are the in-memory ones', async (t) => {
  const dir = t.testdir();
  await generate(24, dir);
  const file = join(dir, 'fleet-24.yaml');
  const report = await inMemory(file);
  t.equal(report.clusters.length, 24);
  const json = await streamed(t, file, 'json');
  t.equal(json, formatJson(report), 'json: same bytes (score first, clusters in fleet order)');
  t.same(JSON.parse(json).clusters.map((c: { name: string }) => c.name), Array.from({ length: 24 }, (_, i) => `c${i}`));
  t.equal(await streamed(t, file, 'pretty'), formatPretty(report, (_c, s) => s), 'pretty');
});
