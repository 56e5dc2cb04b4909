import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { SECRET_DESIRED, SECRET_LIVE, story } from './story.js';

// About twenty CLI processes and two headless Chromium runs: more than the default 120 s on a loaded machine.
t.setTimeout(400_000);
import { startPostgres } from '../helpers/postgres.js';

t.test('PostgreSQL store: the same story, and an unreachable store still gets the report written', async (t) => {
  const pg = await startPostgres(t);
  const dir = await tempDir(t, 'fleetgate-history-pg-');
  const url = pg.newDatabase('cli');
  const f = await story(t, dir, url);
  const dump = spawnSync('runuser', ['-u', 'postgres', '--', 'sh', '-c', `pg_dump "${url}"`], { encoding: 'utf8' });
  const text = dump.status === 0 ? dump.stdout : '';
  t.ok(text.includes('ResourceQuota'), 'the dump has the data');
  t.notOk(text.includes(SECRET_DESIRED) || text.includes(SECRET_LIVE), 'no planted secret in the PostgreSQL store');

  const out = join(dir, 'report.json');
  const r = await runCli(['scan', '--fleet', join(f, 'fleet.yaml'), '--history', 'postgres://fleet:pw-never-shown@127.0.0.1:1/history', '--format', 'json', '--output', out]);
  t.equal(r.code, 3, 'exit 3: the history was not written');
  t.match(r.stderr, /the report is written, but not the history: history store postgres:\/\/fleet:\*\*\*@127\.0\.0\.1:1\/history cannot be reached/);
  t.notMatch(r.stderr, /pw-never-shown/);
  t.equal(JSON.parse(readFileSync(out, 'utf8')).clusters.length, 6, 'the report was written');
  const bad = await runCli(['history', 'trend', '--history', 'mysql://x@y/z']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /give a file path \(embedded store\) or a postgres:\/\/ URL/);
});
