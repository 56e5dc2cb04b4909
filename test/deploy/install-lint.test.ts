// Dogfooding: deploy/install.yaml passes fleetgate's own built-in packs (every pack that is merged: this test
// gets stricter as they land), with only the waivers written down in deploy/exceptions.yaml.
import t from 'tap';
import { cliCommand } from '../helpers/cli.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** Runs ./bin/fleetgate as users do (see cliCommand). */
function fleetgate(args: string[], input?: string) {
  return spawnSync(...cliCommand(args), {
    cwd: root,
    encoding: 'utf8',
    input,
    timeout: 60_000,
  });
}

type Finding = { policy: string; action: string; message: string; resource: { kind: string; name: string } };
const blocking = (fs: Finding[]) =>
  fs.filter((f) => f.action === 'deny' || f.action === 'warn').map((f) => `${f.policy} ${f.resource.kind}/${f.resource.name}: ${f.message}`);

t.test('fleetgate lint deploy/install.yaml deploy/exceptions.yaml finds nothing', async (t) => {
  t.ok(existsSync(join(root, 'dist', 'src', 'cli', 'main.js')), 'built (npm test runs tsc first)');
  const run = fleetgate(['lint', 'deploy/install.yaml', 'deploy/exceptions.yaml', '--format', 'json']);
  t.equal(run.stderr, '', 'nothing on stderr');
  const out = JSON.parse(run.stdout);
  t.same(blocking(out.findings), [], 'no deny or warn findings');
  t.same(out.errors, [], 'no input errors');
  t.equal(run.status, 0, 'exit 0');
  t.ok(out.summary.objects >= 15, `the whole install was read (${out.summary.objects} objects)`);
});

t.test('the same manifests through standard input (`helm template … | fleetgate lint -`)', async (t) => {
  const run = fleetgate(['lint', '-', '--format', 'json'], readFileSync(join(root, 'deploy', 'install.yaml'), 'utf8'));
  t.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  t.same(blocking(out.findings), []);
  t.ok(out.summary.objects >= 15);
});

t.test('the linter would catch a regression in install.yaml', async (t) => {
  // Guards the dogfooding itself: the same file with hostNetwork on the webhook pods must fail.
  const broken = readFileSync(join(root, 'deploy', 'install.yaml'), 'utf8').replace(
    '      serviceAccountName: fleetgate-webhook\n',
    '      serviceAccountName: fleetgate-webhook\n      hostNetwork: true\n',
  );
  const run = fleetgate(['lint', '-', '--format', 'json', '--cluster-label', 'region=europe'], broken.replace(/fleetgate-system/g, 'tenant-a').replace(/fleetgate\.io\/system: "true"/, 'team: a'));
  const out = JSON.parse(run.stdout);
  t.ok(out.findings.some((f: Finding) => f.policy === 'isolation.no-host-namespaces'), 'isolation.no-host-namespaces fires');
  t.equal(run.status, 1);
});
