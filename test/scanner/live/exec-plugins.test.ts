import t from 'tap';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ClusterReadError, readLiveCluster } from '../../../scanner/live/index.js';
import { sampleObjects, SCAN_KINDS } from '../../../testkit/api-double.js';
import { fixture, FAST_RETRY } from '../../helpers/api-fixtures.js';
import { runCli } from '../../helpers/cli.js';

/**
 * A kubeconfig's user can name a program to run for credentials (`exec`, or an auth-provider's `cmd-path`). A
 * kubeconfig from a config repo must not run anything the operator did not allow.
 */

type Fx = Awaited<ReturnType<typeof fixture>>;

/** A kubeconfig for the double's cluster `name` whose user is `user` (instead of a token). */
function kubeconfig(fx: Fx, file: string, name: string, user: Record<string, unknown>): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': name,
    clusters: [{ name, cluster: { server: fx.api.serverUrl(name), 'certificate-authority-data': Buffer.from(fx.api.ca).toString('base64') } }],
    users: [{ name: `${name}-user`, user }],
    contexts: [{ name, context: { cluster: name, user: `${name}-user` } }],
  };
  writeFileSync(file, stringify(doc), { mode: 0o600 });
  return file;
}

const shExec = (marker: string) => ({
  exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: '/bin/sh', args: ['-c', `touch ${marker}`], interactiveMode: 'Never' },
});

async function readError(p: Promise<unknown>): Promise<ClusterReadError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ClusterReadError) return err;
    throw err;
  }
  throw new Error('the read succeeded');
}

t.test('an exec plugin that is not on the allowlist is not run; the cluster fails with the reason', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  fx.api.addCluster('hostile', { objects: sampleObjects({ namespaces: 1 }) });
  const marker = join(fx.dir, 'MARKER');
  const kc = kubeconfig(fx, join(fx.dir, 'hostile.kubeconfig'), 'hostile', shExec(marker));
  const err = await readError(readLiveCluster({ kubeconfig: kc, kinds: SCAN_KINDS, retry: FAST_RETRY }));
  t.equal(err.status, 'error');
  t.match(err.message, /exec credential plugin \(command "\/bin\/sh"\) that is not on the allowlist, so it was not run; allow it with "scan --allow-exec-plugin \/bin\/sh"/);
  t.notOk(existsSync(marker), 'the command never ran');
  t.equal(fx.api.cluster('hostile').requests.length, 0, 'nothing was sent to the server either');
  // an allowlist naming another command does not help
  const other = await readError(readLiveCluster({ kubeconfig: kc, kinds: SCAN_KINDS, retry: FAST_RETRY, allowExecPlugins: ['aws', 'sh'] }));
  t.match(other.message, /not on the allowlist/);
  t.notOk(existsSync(marker));
});

t.test('an allowed exec plugin runs and its token is used; it cannot be given LD_PRELOAD or PATH', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const cluster = fx.api.addCluster('ok', { objects: sampleObjects({ namespaces: 1 }) });
  const plugin = join(fx.dir, 'token-plugin');
  const cred = { apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: cluster.token } };
  writeFileSync(plugin, `#!/bin/sh\necho '${JSON.stringify(cred)}'\n`);
  chmodSync(plugin, 0o755);
  const exec = { apiVersion: 'client.authentication.k8s.io/v1beta1', command: plugin, interactiveMode: 'Never' };
  const kc = kubeconfig(fx, join(fx.dir, 'ok.kubeconfig'), 'ok', { exec });
  const r = await readLiveCluster({ kubeconfig: kc, kinds: SCAN_KINDS, retry: FAST_RETRY, allowExecPlugins: [plugin] });
  t.ok(r.objects.length > 0, 'read with the token the plugin printed');

  const preload = kubeconfig(fx, join(fx.dir, 'preload.kubeconfig'), 'ok', { exec: { ...exec, env: [{ name: 'LD_PRELOAD', value: '/repo/evil.so' }] } });
  const err = await readError(readLiveCluster({ kubeconfig: preload, kinds: SCAN_KINDS, retry: FAST_RETRY, allowExecPlugins: [plugin] }));
  t.match(err.message, /would be given LD_PRELOAD, which changes what it runs; refused/);
});

t.test('auth-providers need auth-provider:NAME, their cmd-path must be allowed, and cmd-args cannot carry shell syntax', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  fx.api.addCluster('gcp', { objects: sampleObjects({ namespaces: 1 }) });
  const marker = join(fx.dir, 'GCP-MARKER');
  const provider = (args: string) => ({
    'auth-provider': { name: 'gcp', config: { 'cmd-path': '/bin/sh', 'cmd-args': args, 'expiry-key': '{.expiry}', 'token-key': '{.token}' } },
  });
  const kc = kubeconfig(fx, join(fx.dir, 'gcp.kubeconfig'), 'gcp', provider(`-c 'touch ${marker}'`));
  const none = await readError(readLiveCluster({ kubeconfig: kc, kinds: SCAN_KINDS, retry: FAST_RETRY }));
  t.match(none.message, /uses the auth-provider "gcp", which is not on the allowlist/);
  const noCmd = await readError(readLiveCluster({ kubeconfig: kc, kinds: SCAN_KINDS, retry: FAST_RETRY, allowExecPlugins: ['auth-provider:gcp'] }));
  t.match(noCmd.message, /runs the command "\/bin\/sh", which is not on the allowlist/);
  const shell = await readError(readLiveCluster({ kubeconfig: kc, kinds: SCAN_KINDS, retry: FAST_RETRY, allowExecPlugins: ['auth-provider:gcp', '/bin/sh'] }));
  t.match(shell.message, /cmd-args with shell syntax/);
  t.notOk(existsSync(marker), 'the command never ran');
});

t.test('scan: a config-repo kubeconfig with exec /bin/sh -c touch MARKER: no marker, that cluster errored with the reason, the scan goes on', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  fx.api.addCluster('evil', { objects: sampleObjects({ namespaces: 1 }) });
  const good = fx.cluster('good', { objects: sampleObjects({ namespaces: 1 }) });
  const repo = join(fx.dir, 'config-repo');
  mkdirSync(join(repo, 'base'), { recursive: true });
  writeFileSync(join(repo, 'base', 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: tenant-0}\n');
  const marker = join(fx.dir, 'MARKER');
  kubeconfig(fx, join(repo, 'kubeconfig.yaml'), 'evil', shExec(marker));
  writeFileSync(
    join(repo, 'fleet.yaml'),
    stringify({
      repo: '.',
      layers: [{ path: 'base' }],
      clusters: [
        { name: 'evil', source: { kubeconfig: './kubeconfig.yaml' } },
        { name: 'good', source: { kubeconfig: good } },
      ],
    }),
  );
  const r = await runCli(['scan', '--fleet', join(repo, 'fleet.yaml'), '--format', 'json']);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const by = Object.fromEntries(report.clusters.map((c: { name: string }) => [c.name, c]));
  t.equal(by.evil.status, 'error');
  t.match(by.evil.error, /exec credential plugin \(command "\/bin\/sh"\) that is not on the allowlist, so it was not run/);
  t.equal(by.evil.score, null);
  t.equal(by.good.status, 'ok');
  t.notOk(existsSync(marker), 'the command never ran');

  // the operator's allowlist (flag) lets a trusted plugin run; the fleet file's allowExecPlugins does the same
  const plugin = join(fx.dir, 'plugin');
  writeFileSync(plugin, `#!/bin/sh\necho '${JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: fx.api.cluster('evil').token } })}'\n`);
  chmodSync(plugin, 0o755);
  kubeconfig(fx, join(repo, 'kubeconfig.yaml'), 'evil', { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: plugin, interactiveMode: 'Never' } });
  const allowed = await runCli(['scan', '--fleet', join(repo, 'fleet.yaml'), '--format', 'json', '--allow-exec-plugin', plugin]);
  t.equal(JSON.parse(allowed.stdout).clusters[0].status, 'ok', allowed.stderr);
  writeFileSync(join(repo, 'fleet.yaml'), stringify({ repo: '.', allowExecPlugins: [plugin], layers: [{ path: 'base' }], clusters: [{ name: 'evil', source: { kubeconfig: './kubeconfig.yaml' } }] }));
  const viaFleet = await runCli(['scan', '--fleet', join(repo, 'fleet.yaml'), '--format', 'json']);
  t.equal(JSON.parse(viaFleet.stdout).clusters[0].status, 'ok', viaFleet.stderr);
});

t.test('a token-file is read only when the operator allowed that path: a repo kubeconfig cannot send a local file as its token', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const cluster = fx.api.addCluster('tf', { objects: sampleObjects({ namespaces: 1 }) });
  // The file a hostile kubeconfig would name: anything the scan pod can read (here, a planted secret).
  const secret = join(fx.dir, 'operator-secret');
  writeFileSync(secret, cluster.token);
  const kc = kubeconfig(fx, join(fx.dir, 'tf.kubeconfig'), 'tf', { 'token-file': secret });
  const err = await readError(readLiveCluster({ kubeconfig: kc, kinds: SCAN_KINDS, retry: FAST_RETRY }));
  t.equal(err.status, 'error');
  t.match(err.message, /reads its token from the file ".*operator-secret", which is not on the allowlist, so it was not read; allow it with "scan --allow-exec-plugin token-file:/);
  t.notOk(err.message.includes(cluster.token), 'the file content is nowhere in the reason');
  t.equal(fx.api.cluster('tf').requests.length, 0, 'nothing was sent to the server');
  const other = await readError(readLiveCluster({ kubeconfig: kc, kinds: SCAN_KINDS, retry: FAST_RETRY, allowExecPlugins: ['token-file:/elsewhere', secret] }));
  t.match(other.message, /not on the allowlist/, 'the bare path or another path does not allow it');
  const r = await readLiveCluster({ kubeconfig: kc, kinds: SCAN_KINDS, retry: FAST_RETRY, allowExecPlugins: [`token-file:${secret}`] });
  t.ok(r.objects.length > 0, 'allowed: read with the token from the file');
});
