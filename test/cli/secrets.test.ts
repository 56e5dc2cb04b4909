import t from 'tap';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';

/**
 * Secret values never reach a report: values are planted in Secrets (data and stringData) of the files that lint
 * reads and of a fleet's config repo and live snapshot, then every output of every format is searched for them.
 */
const PLANTED = ['hunter2-planted-db-password', 'sk_live_planted_0123456789', 'planted-string-data-token'];
const ENCODED = PLANTED.map((p) => Buffer.from(p).toString('base64'));

function secret(ns: string, name: string, data: Record<string, string>, stringData?: Record<string, string>): string {
  const lines = [`apiVersion: v1`, `kind: Secret`, `metadata:`, `  name: ${name}`, `  namespace: ${ns}`, `type: Opaque`, `data:`];
  for (const [k, v] of Object.entries(data)) lines.push(`  ${k}: ${v}`);
  if (stringData) {
    lines.push('stringData:');
    for (const [k, v] of Object.entries(stringData)) lines.push(`  ${k}: ${v}`);
  }
  return lines.join('\n') + '\n';
}

function assertClean(t: { notOk(value: unknown, message: string): void }, label: string, text: string): void {
  for (const v of [...PLANTED, ...ENCODED]) t.notOk(text.includes(v), `${label} does not contain a planted secret value`);
}

t.test('lint: no format prints Secret data', async (t) => {
  const dir = await tempDir(t, 'fleetgate-secrets-lint-');
  await writeFile(
    join(dir, 'app.yaml'),
    [
      secret('shop', 'db', { password: ENCODED[0], apiKey: ENCODED[1] }, { token: PLANTED[2] }),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {hostPID: true, containers: [{name: a, image: "a:1"}]}\n',
    ].join('---\n'),
  );
  for (const format of ['pretty', 'json', 'sarif', 'junit']) {
    const r = await runCli(['lint', dir, '--format', format]);
    t.equal(r.code, 1, `${format}: the Pod's finding fails the run`);
    assertClean(t, `lint --format ${format} stdout`, r.stdout);
    assertClean(t, `lint --format ${format} stderr`, r.stderr);
  }
});

t.test('scan: drifted and unmanaged Secrets show no values in any format', async (t) => {
  const dir = await tempDir(t, 'fleetgate-secrets-scan-');
  await mkdir(join(dir, 'repo/base'), { recursive: true });
  await mkdir(join(dir, 'live'), { recursive: true });
  await writeFile(
    join(dir, 'repo/base/secrets.yaml'),
    secret('shop', 'db', { password: ENCODED[0] }, { token: PLANTED[2] }),
  );
  await writeFile(
    join(dir, 'live/secrets.yaml'),
    [secret('shop', 'db', { password: ENCODED[1] }), secret('shop', 'stray', { key: ENCODED[0] })].join('---\n'),
  );
  await writeFile(
    join(dir, 'fleet.yaml'),
    'repo: ./repo\nlayers:\n  - path: base\nowned: [Secret]\nclusters:\n  - name: c1\n    labels: {region: europe}\n    source: {snapshot: live}\n',
  );
  for (const format of ['pretty', 'json', 'html', 'policyreport']) {
    const out = join(dir, `report.${format}`);
    const r = await runCli(['scan', '--fleet', join(dir, 'fleet.yaml'), '--format', format, '--output', out]);
    t.equal(r.code, 0, `${format}: ${r.stderr}`);
    const report = await readFile(out, 'utf8');
    if (format === 'json') {
      const drift = JSON.parse(report).clusters[0].drift;
      t.ok(drift.some((d: { state: string }) => d.state === 'modified'), 'the changed Secret is reported as modified');
      t.ok(drift.some((d: { state: string }) => d.state === 'unmanaged'), 'the stray Secret is reported as unmanaged');
    }
    assertClean(t, `scan --format ${format} report`, report);
    assertClean(t, `scan --format ${format} stdout+stderr`, r.stdout + r.stderr);
  }
});
