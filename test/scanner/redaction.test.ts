import t from 'tap';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KubeObject } from '../../src/index.js';
import { readSnapshot } from '../../scanner/scan.js';
import { REDACTED } from '../../scanner/live/index.js';
import { sampleObjects } from '../../testkit/api-double.js';
import { fixture } from '../helpers/api-fixtures.js';
import { runCli, tempDir } from '../helpers/cli.js';

/**
 * One redaction path for everything the scanner reads: a snapshot folder and a live cluster both hand back Secrets
 * with data, stringData and the last-applied-configuration annotation redacted, and no output carries a planted
 * value: json, html, pretty, policyreport reports, and the process's standard output and error (its logs).
 */
const SNAP_DATA = 'planted-snapshot-data-5a1e';
const SNAP_STRING = 'planted-snapshot-stringdata-77b0';
const SNAP_APPLIED = 'planted-last-applied-only-9c4d';
const LIVE_DATA = 'planted-live-secret-data-e31f';
const LIVE_APPLIED = 'planted-live-last-applied-40aa';
const TOKEN = 'planted-live-bearer-token-0d9e8f7a6b5c';
const REPO_APPLIED = 'planted-repo-last-applied-61fe';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const NEEDLES = [SNAP_DATA, SNAP_STRING, SNAP_APPLIED, LIVE_DATA, LIVE_APPLIED, TOKEN, REPO_APPLIED].flatMap((s) => [s, b64(s)]);

function secretWithHistory(name: string, data: string, applied: string, stringData?: string): KubeObject {
  const last = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'shop' }, data: { password: b64(applied) }, stringData: { token: applied } };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'shop', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(last), team: 'shop' } },
    type: 'Opaque',
    data: { password: b64(data) },
    ...(stringData ? { stringData: { token: stringData } } : {}),
  };
}

t.test('readSnapshot redacts Secrets as the live reader does (also inside a List)', async (t) => {
  const dir = await tempDir(t, 'fleetgate-redact-snap-');
  await writeFile(join(dir, 'secret.yaml'), stringify(secretWithHistory('db', SNAP_DATA, SNAP_APPLIED, SNAP_STRING)));
  await writeFile(join(dir, 'list.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [secretWithHistory('in-list', SNAP_DATA, SNAP_APPLIED)] }));
  const state = await readSnapshot(dir);
  const text = JSON.stringify(state);
  for (const n of NEEDLES) t.notOk(text.includes(n), `snapshot objects do not contain ${n}`);
  const db = state.objects.find((o) => o.metadata?.name === 'db')!;
  t.same(db.data, { password: REDACTED }, 'keys kept, values redacted');
  t.same(db.stringData, { token: REDACTED });
  t.equal(db.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], REDACTED);
  t.equal(db.metadata?.annotations?.team, 'shop', 'other annotations are kept');
});

t.test('scan: planted values in a snapshot and a live cluster reach no report format and no log line', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const dir = await tempDir(t, 'fleetgate-redact-scan-');
  await mkdir(join(dir, 'repo/base'), { recursive: true });
  await mkdir(join(dir, 'snap'), { recursive: true });
  // the repo declares the Secret (exported from a cluster, so with its own last-applied annotation): drift entries
  // are made for it in every cluster, and the annotation is compared
  const desired = secretWithHistory('db', 'desired', REPO_APPLIED);
  await writeFile(join(dir, 'repo/base/secret.yaml'), stringify(desired));
  await writeFile(join(dir, 'snap/secret.yaml'), stringify(secretWithHistory('db', SNAP_DATA, SNAP_APPLIED, SNAP_STRING)));
  await writeFile(join(dir, 'snap/stray.yaml'), stringify(secretWithHistory('stray', SNAP_DATA, SNAP_APPLIED)));
  const live = [...sampleObjects({ namespaces: 1, secretValue: LIVE_DATA }), secretWithHistory('db', LIVE_DATA, LIVE_APPLIED)];
  const kc = fx.cluster('live1', { objects: live, token: TOKEN });
  // a second live cluster whose server echoes the Authorization header into its 403 messages (warnings)
  const echo = fx.cluster('echo1', { objects: live, token: TOKEN, faults: { forbidden: ['pods'], echoCredentials: true } });
  await writeFile(
    join(dir, 'fleet.yaml'),
    stringify({
      repo: './repo',
      layers: [{ path: 'base' }],
      owned: ['Secret'],
      clusters: [
        { name: 'snap1', source: { snapshot: 'snap' } },
        { name: 'live1', source: { kubeconfig: kc } },
        { name: 'echo1', source: { kubeconfig: echo } },
      ],
    }),
  );
  for (const format of ['json', 'html', 'pretty', 'policyreport']) {
    const out = join(dir, `report.${format}`);
    const r = await runCli(['scan', '--fleet', join(dir, 'fleet.yaml'), '--format', format, '--output', out]);
    t.equal(r.code, 0, `${format}: ${r.stderr}`);
    const report = await readFile(out, 'utf8');
    if (format === 'json') {
      const clusters = JSON.parse(report).clusters as { name: string; status: string; drift: { state: string; resource: { name: string } }[]; warnings: string[] }[];
      t.same(clusters.map((c) => c.status), ['ok', 'ok', 'ok'], 'every cluster was read');
      t.ok(clusters[0].drift.some((d) => d.resource.name === 'stray' && d.state === 'unmanaged'), 'the stray snapshot Secret is in the report');
      t.ok(clusters[2].warnings.some((w) => /forbidden/.test(w)), 'the echoing server produced warnings');
    }
    for (const n of NEEDLES) {
      t.notOk(report.includes(n), `scan --format ${format}: report has no ${n}`);
      t.notOk(r.stdout.includes(n) || r.stderr.includes(n), `scan --format ${format}: logs have no ${n}`);
    }
  }
});
