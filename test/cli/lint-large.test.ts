import t from 'tap';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateManifests } from '../../bench/generate-manifests.js';
import { applyRollouts, dedupeFindings, inProcessEvaluator } from '../../src/engine/index.js';
import { loadPaths } from '../../src/loading/index.js';
import { formatJson, formatPretty, painter, skippedFleetRules, sortFindings, summarize, type LintReport } from '../../src/report/index.js';
import { builtinPolicies } from '../../policies/index.js';
import { runCli, tempDir } from '../helpers/cli.js';

/**
 * lint judges a large inventory part by part and keeps its findings as compact rows (src/cli/lint-evaluate.ts,
 * src/report/finding-store.ts). Its report must be the one a single evaluation of the whole inventory gives,
 * byte for byte: made here the way lint made it before, from the same files.
 */
const WAIVERS = `apiVersion: fleetgate.io/v1alpha1
kind: PolicyException
metadata: {name: waive-tenant-3, namespace: tenant-3}
spec:
  policies: ["practices.*"]
  resources: [{namespace: tenant-3}]
  expires: "2099-12-31"
  reason: test
---
apiVersion: fleetgate.io/v1alpha1
kind: PolicyException
metadata: {name: gone}
spec:
  policies: [isolation.no-host-namespaces]
  resources: [{kind: Deployment}]
  expires: "2001-01-01"
  reason: expired long ago
---
apiVersion: fleetgate.io/v1alpha1
kind: PolicyException
metadata: {name: broken}
spec:
  policies: []
`;

async function previousReport(dir: string): Promise<{ report: LintReport; failing: boolean }> {
  const loaded = await loadPaths([dir]);
  const rolled = applyRollouts({ parameters: {} }, builtinPolicies, loaded.resources);
  const evaluation = inProcessEvaluator(builtinPolicies, rolled.context).evaluate(loaded.resources);
  const findings = sortFindings(dedupeFindings([...rolled.findings, ...evaluation.findings], builtinPolicies));
  const summary = summarize(findings, loaded.errors, { files: loaded.files, objects: evaluation.objects, skipped: loaded.skipped, waived: evaluation.waived, exempt: evaluation.exempt ?? 0 });
  const skipped = skippedFleetRules(builtinPolicies);
  if (skipped) summary.fleetRules = skipped;
  return { report: { findings, errors: loaded.errors, summary }, failing: findings.some((f) => f.action !== 'audit') };
}

t.test('a lint of 3,000 objects in 30 files (judged in parts) reports exactly what one evaluation of the whole does', async (t) => {
  const dir = await tempDir(t, 'fleetgate-lint-large-');
  await generateManifests(dir, 30, 100);
  await writeFile(join(dir, 'waivers.yaml'), WAIVERS);
  const { report, failing } = await previousReport(dir);
  t.ok(report.findings.length > 10_000, `${report.findings.length} findings`);
  t.ok(report.summary.waived > 0, 'a waiver applies across parts');
  t.ok(report.findings.some((f) => f.policy === 'fleetgate.exception-expired') && report.findings.some((f) => f.policy === 'fleetgate.exception-invalid'));
  const json = await runCli(['lint', dir, '--format', 'json']);
  t.equal(json.stdout, formatJson(report), 'JSON, byte for byte');
  t.equal(json.code, failing ? 1 : 0);
  const out = join(dir, 'report.txt');
  const pretty = await runCli(['lint', dir, '--format', 'pretty', '--output', out]);
  t.equal(await readFile(out, 'utf8'), formatPretty(report, painter(false)), 'pretty, byte for byte');
  t.equal(pretty.code, json.code);
});

t.test('the same object in two files is still merged as one evaluation merges it', async (t) => {
  const dir = await tempDir(t, 'fleetgate-lint-dup-');
  await generateManifests(dir, 12, 100);
  // the first file's Namespace and workloads again, in a file linted after the others
  await writeFile(join(dir, 'zz-copy.yaml'), await readFile(join(dir, (await readdir(dir)).sort()[0]), 'utf8'));
  const { report } = await previousReport(dir);
  const json = await runCli(['lint', dir, '--format', 'json']);
  t.equal(json.stdout, formatJson(report));
});
