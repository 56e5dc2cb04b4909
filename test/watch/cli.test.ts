import { spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cliCommand, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { judged, until } from './fixture.js';

/**
 * `fleetgate watch` as a user runs it, on a copy of the bundled example fleet: the HTTP endpoints, the report equal
 * to what `scan` writes, a snapshot file edited in place picked up, and SIGTERM stopping it cleanly.
 */
t.test('watch the example fleet: endpoints, scan-equal report, in-place edits, SIGTERM', async (t) => {
  const dir = await tempDir(t, 'fleetgate-watch-cli-');
  cpSync(join(ROOT, 'examples/fleet'), dir, { recursive: true });
  const fleet = join(dir, 'fleet.yaml');
  const child = spawn(...cliCommand(['watch', '--fleet', fleet, '--port', '0', '--host', '127.0.0.1', '--debounce', '50']), { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  t.teardown(() => child.kill('SIGKILL'));
  t.ok(await until(() => /"msg":"watching"/.test(stderr)), 'started');
  const url = JSON.parse(stderr.split('\n').find((l) => l.includes('"watching"'))!).url as string;
  const get = async (p: string) => {
    const res = await fetch(url + p);
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  t.equal((await get('/healthz')).status, 200, '/healthz');
  t.ok(await until(async () => (await get('/readyz')).status === 200), '/readyz once every cluster synced or failed');
  const scanReport = async () => JSON.parse((await runCli(['scan', '--fleet', fleet, '--format', 'json'])).stdout);
  const watchReport = async () => JSON.parse((await get('/report.json')).text);
  const compare = async (what: string) => {
    const scan = await scanReport();
    await until(async () => JSON.stringify((await watchReport()).clusters.map(judged)) === JSON.stringify(scan.clusters.map(judged)), 5000);
    const live = await watchReport();
    t.same(Object.keys(live).sort(), Object.keys(scan).sort(), `${what}: the shape of scan --format json`);
    for (let i = 0; i < scan.clusters.length; i++) t.same(judged(live.clusters[i]), judged(scan.clusters[i]), `${what}: ${scan.clusters[i].name} as scan reports it`);
    t.equal(live.score, scan.score, `${what}: fleet score`);
    return live;
  };
  const first = await compare('at start');
  t.equal(first.clusters.find((c: { name: string }) => c.name === 'tyo01').status, 'unreachable', 'the unreachable example cluster says so');

  const metrics = await get('/metrics');
  t.match(metrics.type, /text\/plain/);
  for (const name of ['fleetgate_fleet_score', 'fleetgate_cluster_score{', 'fleetgate_cluster_up{cluster="tyo01"} 0', 'fleetgate_cluster_findings{', 'fleetgate_cluster_drift_objects{', 'fleetgate_cluster_oldest_drift_seconds{', 'fleetgate_watch_events_total{', 'fleetgate_watch_detect_seconds_bucket', 'fleetgate_cluster_sync_errors_total{'])
    t.ok(metrics.text.includes(name), `/metrics has ${name}`);
  const html = await get('/report.html');
  t.match(html.type, /text\/html/);
  t.match(html.text, /<html/);

  // an in-place edit of a snapshot file (same inode, as `kubectl get -o yaml > file` would not, but editors do)
  const snapDir = join(dir, 'clusters', 'par01');
  const file = join(snapDir, 'deployments.yaml');
  const before = readFileSync(file, 'utf8');
  t.match(before, /image: /);
  writeFileSync(file, before.replace('registry.example/varnish:7.5.1', 'registry.example/varnish:9.9'));
  const changed = await compare('after editing par01 in place');
  t.not(JSON.stringify(judged(changed.clusters[0])), JSON.stringify(judged(first.clusters[0])), 'par01 changed');

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM: exit 0');
  t.match(stderr, /"msg":"stopped"/, 'stopped cleanly');
});

t.test('usage errors', async (t) => {
  const r = await runCli(['watch']);
  t.equal(r.code, 2);
  t.match(r.stderr, /--fleet FILE is required/);
  const s = await runCli(['watch', '--fleet', 'x.yaml', '--shard', '3/2']);
  t.equal(s.code, 2);
  t.match(s.stderr, /--shard must be I\/N/);
  const h = await runCli(['watch', '--help']);
  t.equal(h.code, 0);
  t.match(h.stdout, /\/report\.json/);
});
