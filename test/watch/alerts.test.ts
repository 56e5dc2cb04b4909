import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { cliCommand, ROOT, tempDir } from '../helpers/cli.js';
import { until } from './fixture.js';

/**
 * The watch's alerts: the rules file the chart ships is checked and unit-tested with promtool, and one end-to-end
 * run has a real Prometheus scrape `fleetgate watch` and fire FleetgateDriftNotReconciled once a planted drift
 * persists past the (shortened) threshold.
 */
const RULES = join(ROOT, 'charts/fleetgate/files/watch-alerts.yaml');

t.test('promtool check rules / test rules', async (t) => {
  const check = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
  t.equal(check.status, 0, 'promtool check rules', { output: check.stdout + check.stderr });
  t.match(check.stdout, /SUCCESS: 4 rules found/);
  const test = spawnSync('promtool', ['test', 'rules', 'alerts.test.yaml'], { cwd: join(ROOT, 'test/watch'), encoding: 'utf8' });
  t.equal(test.status, 0, 'promtool test rules', { output: test.stdout + test.stderr });
  t.match(test.stdout, /SUCCESS/);
});

t.test('the chart ships this rules file and sets its drift threshold', async (t) => {
  const template = readFileSync(join(ROOT, 'charts/fleetgate/templates/watch-prometheusrule.yaml'), 'utf8');
  const rules = readFileSync(RULES, 'utf8');
  const literal = 'fleetgate_cluster_oldest_drift_seconds) > 120';
  t.match(template, '.Files.Get "files/watch-alerts.yaml"', 'the PrometheusRule includes the file');
  t.match(template, `replace "${literal}"`, 'and replaces the default threshold');
  t.equal(rules.split(literal).length - 1, 1, 'which appears exactly once in the rules');
  const values = readFileSync(join(ROOT, 'charts/fleetgate/values.yaml'), 'utf8');
  t.match(values, /driftThresholdSeconds: 120/, 'the default is the same 120 s');
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

t.test('a real Prometheus scrapes the watch and the drift alert fires', async (t) => {
  const dir = await tempDir(t, 'fleetgate-prom-');
  // a fleet of one snapshot cluster that is in sync with its repo
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'shop' }, data: { mode: 'strict' } };
  mkdirSync(join(dir, 'repo/base'), { recursive: true });
  mkdirSync(join(dir, 'clusters/par01'), { recursive: true });
  writeFileSync(join(dir, 'repo/base/cm.yaml'), stringify(cm));
  const snapshot = join(dir, 'clusters/par01/cm.yaml');
  writeFileSync(snapshot, stringify(cm));
  writeFileSync(
    join(dir, 'fleet.yaml'),
    stringify({ repo: './repo', layers: [{ path: 'base' }], clusters: [{ name: 'par01', labels: { region: 'europe', type: 'edge', cohort: '1' }, source: { snapshot: 'clusters/par01' } }] }),
  );

  const watchPort = await freePort();
  const watch = spawn(...cliCommand(['watch', '--fleet', join(dir, 'fleet.yaml'), '--host', '127.0.0.1', '--port', String(watchPort), '--debounce', '50']), { cwd: ROOT });
  let watchLog = '';
  watch.stderr.setEncoding('utf8').on('data', (d) => (watchLog += d));
  t.teardown(() => watch.kill('SIGKILL'));

  // the shipped rules with a 3 s threshold instead of 120 s (as the chart's value would set it)
  const rules = readFileSync(RULES, 'utf8').replace('fleetgate_cluster_oldest_drift_seconds) > 120', 'fleetgate_cluster_oldest_drift_seconds) > 3');
  t.not(rules, readFileSync(RULES, 'utf8'), 'threshold replaced');
  writeFileSync(join(dir, 'rules.yaml'), rules);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'rules.yaml')],
      scrape_configs: [{ job_name: 'fleetgate-watch', static_configs: [{ targets: [`127.0.0.1:${watchPort}`] }] }],
    }),
  );
  const promPort = await freePort();
  const prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], { cwd: dir });
  let promLog = '';
  prom.stderr.setEncoding('utf8').on('data', (d) => (promLog += d));
  t.teardown(() => prom.kill('SIGKILL'));
  const api = async (path: string) => {
    try {
      const res = await fetch(`http://127.0.0.1:${promPort}${path}`);
      return (await res.json()) as { data: any };
    } catch {
      return undefined;
    }
  };
  const value = async (q: string) => (await api(`/api/v1/query?query=${encodeURIComponent(q)}`))?.data?.result?.[0]?.value?.[1];

  const scraped = await until(async () => (await value('fleetgate_cluster_up{cluster="par01"}')) === '1', 60_000);
  t.ok(scraped, 'Prometheus scrapes the watch: up 1');
  if (!scraped) t.comment(`prometheus: ${promLog.slice(-1000)}\nwatch: ${watchLog}`);
  t.equal(await value('fleetgate_cluster_drift_objects{cluster="par01",state="modified"}'), '0', 'in sync at first');
  const firing = async () => ((await api('/api/v1/alerts'))?.data?.alerts ?? []).filter((a: any) => a.labels.alertname === 'FleetgateDriftNotReconciled' && a.state === 'firing');
  t.same(await firing(), [], 'no drift alert while in sync');

  // plant the drift: someone edits the live object by hand
  writeFileSync(snapshot, stringify({ ...cm, data: { mode: 'permissive' } }));
  t.ok(await until(async () => (await value('fleetgate_cluster_drift_objects{cluster="par01",state="modified"}')) === '1', 30_000), 'the drift reaches Prometheus');
  t.ok(await until(async () => (await firing()).length > 0, 60_000), 'FleetgateDriftNotReconciled fires');
  const [alert] = await firing();
  t.match(alert.labels, { alertname: 'FleetgateDriftNotReconciled', cluster: 'par01', severity: 'warning' });
  t.ok(Number(alert.value) > 3, `the drift is older than the threshold (${alert.value}s)`);

  watch.kill('SIGTERM');
  const code = await new Promise((r) => watch.on('close', r));
  t.equal(code, 0, 'the watch stops cleanly');
  prom.kill('SIGTERM');
  await new Promise((r) => prom.on('close', r));
});
