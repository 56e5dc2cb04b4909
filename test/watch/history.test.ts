import { spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { listRuns, openHistory, redactUrl } from '../../history/index.js';
import { cliCommand, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { startPostgres } from '../helpers/postgres.js';
import { until } from './fixture.js';

// Two CLI watches, each recording several runs, on a loaded machine.
t.setTimeout(300_000);

/**
 * `fleetgate watch --history URL --history-interval 1s` on a copy of the example fleet: the current fleet report is
 * recorded at every interval once the fleet has synced, and once more at SIGTERM; `fleetgate history` reads it back.
 */
async function watchRecords(t: Test, url: string, shown: string): Promise<void> {
  const dir = await tempDir(t, 'fleetgate-watch-history-');
  cpSync(join(ROOT, 'examples/fleet'), dir, { recursive: true });
  const fleet = join(dir, 'fleet.yaml');
  const child = spawn(...cliCommand(['watch', '--fleet', fleet, '--port', '0', '--host', '127.0.0.1', '--history', url, '--history-interval', '1s']), { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  t.teardown(() => child.kill('SIGKILL'));
  const recorded = () => stderr.split('\n').filter((l) => l.includes('"history: run recorded"')).length;
  t.ok(await until(() => /"msg":"watching"/.test(stderr), 60_000), 'started');
  const started = JSON.parse(stderr.split('\n').find((l) => l.includes('"watching"'))!);
  t.equal(started.history, shown, 'the store is named in the log, without a password');
  t.ok(await until(() => recorded() >= 2, 60_000), 'two runs recorded at the interval');
  const live = await (await fetch(`${started.url}/report.json`)).json();
  const metrics = await (await fetch(`${started.url}/metrics`)).text();
  t.match(metrics, /fleetgate_watch_history_records_total\{result="ok"\} [1-9]/, 'records counted in /metrics');

  const beforeStop = recorded();
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM: exit 0');
  t.ok(recorded() >= beforeStop + 1, 'one more run recorded at shutdown');
  t.notMatch(stderr, /could not be recorded/, 'no failed record');
  t.notMatch(stderr, /pw-never-shown/, 'the password never reaches the logs');

  const history = await openHistory(url);
  t.teardown(() => history.close());
  const runs = await listRuns(history.store);
  t.equal(runs.length, recorded(), 'every record is a run in the store');
  const last = runs[runs.length - 1];
  t.equal(last.clusters, live.clusters.length, 'the last run holds every cluster of the report');
  t.equal(Math.round(Number(last.score)), Math.round(live.score), 'with the score the watch reported');

  const trend = await runCli(['history', 'trend', '--history', url, '--format', 'json']);
  t.equal(trend.code, 0, 'fleetgate history trend reads it');
  t.equal(JSON.parse(trend.stdout).runs.length, runs.length, 'one point per recorded run');
}

t.test('watch --history records runs in an SQLite file', async (t) => {
  const dir = await tempDir(t, 'fleetgate-watch-history-db-');
  const file = join(dir, 'history.sqlite');
  await watchRecords(t, file, file);
});

t.test('watch --history records runs in PostgreSQL', async (t) => {
  const pg = await startPostgres(t);
  const url = pg.newDatabase('watch');
  await watchRecords(t, url, redactUrl(url));
});

t.test('bad --history flags are usage errors that name the flag', async (t) => {
  const fleet = join(ROOT, 'examples/fleet/fleet.yaml');
  const noUrl = await runCli(['watch', '--fleet', fleet, '--history-interval', '1m']);
  t.equal(noUrl.code, 2);
  t.match(noUrl.stderr, /--history-interval and --history-keep need --history URL/);
  const bad = await runCli(['watch', '--fleet', fleet, '--history', '/tmp/x.sqlite', '--history-interval', 'often']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--history-interval must be a duration like/);
  const unreachable = await runCli(['watch', '--fleet', fleet, '--port', '0', '--history', 'postgres://fleet:pw-never-shown@127.0.0.1:1/history']);
  t.equal(unreachable.code, 2, 'a store that cannot be opened stops the watch before it starts');
  t.match(unreachable.stderr, /postgres:\/\/fleet:\*\*\*@127\.0\.0\.1:1\/history cannot be reached/);
  t.notMatch(unreachable.stderr, /pw-never-shown/);
});
