import t from 'tap';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { sampleObjects, startApiDouble, type ClusterFaults } from '../../../testkit/api-double.js';
import { ROOT, cliCommand, runCli, tempDir } from '../../helpers/cli.js';

/**
 * The whole `fleetgate scan`, as a process, against live clusters served by the API double: a fleet where 10% of
 * the clusters misbehave for good (and more have faults they recover from) gives, for every other cluster, the
 * same report as a clean run; each bad cluster says what went wrong. And an interrupted scan leaves no report file.
 */
const N = 20;
const broken: Record<string, ClusterFaults> = { c04: { hang: true }, c13: { unauthorized: true } };
const bumpy: Record<string, ClusterFaults> = {
  c02: { tooManyRequests: 2, retryAfterSeconds: 0.01 },
  c07: { resetMidBody: 1 },
  c09: { goneOnContinue: 1 },
  c16: { truncatedJson: 1 },
  c18: { serverErrors: 2 },
};

interface ClusterReport {
  name: string;
  status: string;
  error?: string;
  score: number | null;
}

async function fleetOn(dir: string, faults: boolean) {
  const api = await startApiDouble();
  const names = Array.from({ length: N }, (_, i) => `c${String(i).padStart(2, '0')}`);
  for (const [i, name] of names.entries())
    api.addCluster(name, { objects: sampleObjects({ namespaces: 1 + (i % 3), podsPerNamespace: 1 + (i % 2) }), faults: faults ? { ...(broken[name] ?? bumpy[name] ?? {}) } : {} });
  const kubeconfig = api.writeKubeconfig(join(dir, 'kubeconfig'), names);
  await mkdir(join(dir, 'repo/base'), { recursive: true });
  await writeFile(
    join(dir, 'repo/base/namespaces.yaml'),
    'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: tenant-00\n  labels: {istio-injection: enabled}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: tenant-02\n',
  );
  const lines = ['repo: ./repo', 'layers:', '  - path: base', 'timeoutSeconds: 6', 'clusters:'];
  for (const name of names) lines.push(`  - name: ${name}`, `    labels: {region: europe, type: edge}`, `    source: {kubeconfig: ${kubeconfig}, context: ${name}}`);
  await writeFile(join(dir, 'fleet.yaml'), lines.join('\n') + '\n');
  return api;
}

async function scanReport(t: { teardown(fn: () => unknown): void }, faults: boolean): Promise<ClusterReport[]> {
  const dir = await tempDir(t, `fleetgate-live-fleet-${faults ? 'faults' : 'clean'}-`);
  const api = await fleetOn(dir, faults);
  try {
    const r = await runCli(['scan', '--fleet', join(dir, 'fleet.yaml'), '--format', 'json', '--output', join(dir, 'report.json'), '--concurrency', '4']);
    if (r.code !== 0) throw new Error(`scan exited ${r.code}: ${r.stderr}`);
    return JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')).clusters;
  } finally {
    await api.close();
  }
}

t.test('10% of the fleet misbehaves: every other cluster is reported exactly as in a clean run', async (t) => {
  const clean = await scanReport(t, false);
  const faulty = await scanReport(t, true);
  t.equal(clean.length, N);
  t.ok(clean.every((c) => c.status === 'ok'), 'the clean fleet is read whole');
  for (const c of faulty) {
    if (broken[c.name]) continue;
    t.same(c, clean.find((x) => x.name === c.name), `${c.name}${bumpy[c.name] ? ' (recovered from faults)' : ''} is identical to the clean run`);
  }
  const hang = faulty.find((c) => c.name === 'c04')!;
  t.match(hang, { status: 'unreachable', score: null, error: /timed out after 6s/ }, 'the hanging cluster says it timed out');
  const unauthorized = faulty.find((c) => c.name === 'c13')!;
  t.match(unauthorized, { status: 'error', score: null, error: /unauthorized/ }, 'the cluster refusing credentials says so');
});

t.test('SIGINT during a scan leaves no report file, whole or half-written', async (t) => {
  const dir = await tempDir(t, 'fleetgate-live-sigint-');
  const api = await fleetOn(dir, false);
  try {
    api.cluster('c10').faults.hang = true;
    const out = join(dir, 'report.json');
    const child = spawn(...cliCommand(['scan', '--fleet', join(dir, 'fleet.yaml'), '--format', 'json', '--output', out]), { cwd: ROOT, stdio: 'ignore' });
    // Interrupt once the scan is stuck on the hanging cluster.
    for (let i = 0; i < 800 && !api.requests.some((r) => r.cluster === 'c10'); i++) await new Promise((r) => setTimeout(r, 25));
    t.ok(api.requests.some((r) => r.cluster === 'c10'), 'the scan reached the hanging cluster');
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', (c, signal) => resolve(c ?? (signal ? 128 + 2 : null))));
    t.not(code, 0, 'an interrupted scan does not claim success');
    const left = (await readdir(dir)).filter((f) => f.includes('report'));
    t.same(left, [], 'neither the report nor a temporary file is left behind');
  } finally {
    await api.close();
  }
});
