import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { SECRET_DESIRED, SECRET_LIVE, story } from './story.js';

// About twenty CLI processes and two headless Chromium runs: more than the default 120 s on a loaded machine.
t.setTimeout(400_000);

t.test('embedded store: two scans around a config change, then diff and convergence', async (t) => {
  const dir = await tempDir(t, 'fleetgate-history-cli-');
  const store = join(dir, 'history.db');
  await story(t, dir, store);
  // Secrets never reach the store: neither the desired nor the live value, plain or base64.
  const bytes = readdirSync(dir)
    .filter((n) => n.startsWith('history.db'))
    .map((n) => readFileSync(join(dir, n)).toString('latin1'))
    .join('');
  t.ok(bytes.length > 0);
  for (const v of [SECRET_DESIRED, SECRET_LIVE]) {
    t.notOk(bytes.includes(v), `no ${v} in the store`);
    t.notOk(bytes.includes(Buffer.from(v).toString('base64')), `no base64 of ${v} in the store`);
  }
});

