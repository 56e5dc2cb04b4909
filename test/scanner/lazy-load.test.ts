import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN } from '../helpers/cli.js';

/**
 * Nothing loaded that the run does not use: a scan of snapshot folders to JSON loads neither the live reader's
 * Kubernetes client nor the HTML and policy-report writers; a fleet with a live cluster loads the client. The
 * CLI runs as a real process with a module hook that logs every module it loads.
 */

function loadedBy(t: Tap.Test, args: string[]): string[] {
  const dir = t.testdir();
  const log = join(dir, 'modules.log');
  writeFileSync(log, '');
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs';\nexport async function load(url, ctx, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, ctx); }\n`);
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const r = spawnSync('/bin/sh', ['-c', 'unset NODE_OPTIONS; exec "$0" "$@"', process.execPath, '--import', pathToFileURL(register).href, BIN, ...args], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

const CLIENT = /@kubernetes\/client-node/;
const FORMATS = /scanner\/(html|policy-reports|publish)\.js$/;

t.test('a snapshot-only scan to JSON loads no Kubernetes client and no other report format', async (t) => {
  const modules = loadedBy(t, ['scan', '--fleet', 'test/fixtures/scanner/fleet/fleet.yaml', '--format', 'json', '--no-builtins', '--policies', 'test/fixtures/scanner/policies']);
  t.ok(modules.some((m) => /scanner\/stream\.js$/.test(m)), 'the hook sees the scanner load');
  t.same(modules.filter((m) => CLIENT.test(m)), [], 'no @kubernetes/client-node');
  t.same(modules.filter((m) => FORMATS.test(m) || /scanner\/live\/index\.js$/.test(m)), [], 'no live reader, HTML, policy-report or publish module');
});

t.test('a fleet with a live cluster loads the client (for that cluster only)', async (t) => {
  const modules = loadedBy(t, ['scan', '--fleet', 'examples/fleet/fleet.yaml', '--format', 'html']);
  t.ok(modules.some((m) => CLIENT.test(m)), 'the live reader and its client are loaded');
  t.ok(modules.some((m) => /scanner\/html\.js$/.test(m)), 'the HTML writer is loaded when asked for');
});
