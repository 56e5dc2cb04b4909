// The small CLI gaps of issue 16: `fleetgate version`, `test --no-builtins`, `lint --severity` and the per-policy
// summary, and `fleetgate init DIR` — a policy project in which `npm install && npx fleetgate test` passes and
// the example policy type-checks against the DSL (what an editor shows).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, ROOT } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

t.test('fleetgate version, and in --help', async (t) => {
  const v = await runCli(['version']);
  t.equal(v.code, 0);
  t.equal(v.stdout, `${pkg.version}\n`);
  t.equal((await runCli(['--version'])).stdout, v.stdout, 'the same as --version');
  const help = await runCli(['--help']);
  t.match(help.stdout, /^\s+version\s+print the version$/m);
  t.match(help.stdout, /^\s+init\s+write a policy project/m);
});

t.test('fleetgate test --no-builtins runs only the given policies', async (t) => {
  const all = JSON.parse((await runCli(['test', '--format', 'json'])).stdout);
  const only = await runCli(['test', '--no-builtins', '--policies', 'test/fixtures/core/user-policies', 'test/fixtures/core/user-policies', '--format', 'json']);
  t.equal(only.code, 0, only.stderr);
  const out = JSON.parse(only.stdout);
  t.same([...new Set(out.results.map((r: { policy: string }) => r.policy))], ['acme.no-latest-tag'], 'the user policy only');
  t.ok(out.summary.cases >= 4 && out.summary.cases < all.summary.cases, `${out.summary.cases} cases instead of ${all.summary.cases}`);
  t.match((await runCli(['test', '--help'])).stdout, /--no-builtins/);
});

t.test('lint pretty output: a line per policy, --severity hides lower findings from the display only', async (t) => {
  const args = ['lint', 'examples/manifests', '--format', 'pretty'];
  const full = await runCli(args);
  t.match(full.stdout, /^By policy$/m);
  const rows = full.stdout.slice(full.stdout.indexOf('By policy')).split('\n').slice(1).filter((l) => /^ {2}\S/.test(l));
  t.ok(rows.length > 3, `${rows.length} policies with findings`);
  const counts = rows.map((l) => Number(/(\d+) findings?/.exec(l)![1]));
  t.same(counts, [...counts].sort((a, b) => b - a), 'most findings first');
  const total = Number(/^(\d+) findings/m.exec(full.stdout)![1]);
  t.equal(counts.reduce((a, b) => a + b, 0), total, 'the per-policy counts add up to the total');

  const high = await runCli([...args, '--severity', 'high']);
  t.equal(high.code, full.code, 'same exit code');
  const blocks = (s: string) => s.split('\n').filter((l) => /^\S+\s+(critical|high|medium|low)\s+(deny|warn|audit)/.test(l));
  t.ok(blocks(high.stdout).length > 0 && blocks(high.stdout).every((l) => /\s(critical|high)\s/.test(l)), 'only critical and high findings shown');
  t.ok(blocks(high.stdout).length < blocks(full.stdout).length);
  t.match(high.stdout, new RegExp(`${blocks(full.stdout).length - blocks(high.stdout).length} findings below high not shown \\(--severity\\)`));
  t.match(high.stdout, new RegExp(`^${total} findings`, 'm'), 'the totals still count everything');
  const bad = await runCli([...args, '--severity', 'urgent']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--severity must be one of critical, high, medium, low/);
});

t.test('fleetgate init DIR: a policy project where npm install && npx fleetgate test pass', async (t) => {
  t.setTimeout(300_000);
  const parent = await tempDir(t, 'fleetgate-init-');
  const dir = join(parent, 'acme-policies');
  const init = await runCli(['init', dir]);
  t.equal(init.code, 0, init.stderr);
  for (const f of ['package.json', 'tsconfig.json', 'policies/require-team-label.ts', 'tests/require-team-label.yaml', '.github/workflows/policies.yml', 'README.md'])
    t.ok(existsSync(join(dir, f)), f);
  const project = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  t.equal(project.dependencies.fleetgate, `file:${ROOT.replace(/\/$/, '')}`, 'depends on this installation');
  t.equal((await runCli(['init', dir])).code, 2, 'never writes over a project');

  // A user's shell: none of the test runner's variables, and NODE_OPTIONS unset in the shell itself (the runner
  // puts its loaders back into every child's environment, see cliCommand).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|TAP|_TAP|TS_NODE)/i.test(k)));
  const sh = (cmd: string, args: string[]) =>
    spawnSync('/bin/sh', ['-c', 'unset NODE_OPTIONS; exec "$0" "$@"', cmd, ...args], { cwd: dir, encoding: 'utf8', timeout: 240_000, env });
  const install = sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts']);
  t.equal(install.status, 0, `npm install: ${install.stderr}`);
  const test = sh('npx', ['--no-install', 'fleetgate', 'test', '--no-builtins', '--policies', 'policies', 'tests']);
  t.equal(test.status, 0, test.stdout + test.stderr);
  t.match(test.stdout, /4 cases passed across 1 policies/, 'the examples and the PolicyTest cases');
  t.equal(sh('npm', ['test']).status, 0, 'npm test is the same');
  const tsc = sh('npx', ['--no-install', 'tsc', '-p', '.']);
  t.equal(tsc.status, 0, `the example type-checks against fleetgate's types: ${tsc.stdout}`);

  // The types are real: a typo in the DSL is a type error, not silently any.
  writeFileSync(join(dir, 'policies', 'broken.ts'), "import { definePolicy } from 'fleetgate';\nexport default definePolicy({ id: 'x.y', title: 't', area: 'x', severity: 'severe', action: 'deny', match: { kinds: ['Pod'] }, validate() {}, examples: { pass: [], fail: [] } });\n");
  const broken = sh('npx', ['--no-install', 'tsc', '-p', '.']);
  t.not(broken.status, 0);
  t.match(broken.stdout, /broken\.ts.*'"severe"' is not assignable/s);
});
