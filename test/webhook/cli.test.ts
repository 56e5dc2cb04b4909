// `fleetgate serve` as users run it: flags, --config validation (exit 2), a real process answering over HTTPS,
// and SIGTERM finishing in-flight reviews before exiting 0. Needs the build (npm test runs it first).
import t from 'tap';
import { cliCommand } from '../helpers/cli.js';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import { loadConfigFile, mergeSettings } from '../../webhook/config.js';
import { hostPidPod, makeCerts, nonEuServiceEntry, review } from '../helpers/webhook.js';

const built = existsSync(new URL('../../dist/webhook/cli.js', import.meta.url));

function run(args: string[]) {
  const child = spawn(...cliCommand(['serve', ...args]), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

t.test('--config is validated with clear messages', async (t) => {
  const certs = await makeCerts(t);
  const bad = join(certs.dir, 'bad.yaml');
  await writeFile(bad, 'failurePolicy: sometimes\ntimeoutMs: fast\nexemptUsers: system:admin\nsurprise: 1\n');
  const message = await loadConfigFile(bad).then(() => '', (e: Error) => e.message);
  for (const re of [/bad\.yaml/, /failurePolicy: must be one of open, closed/, /timeoutMs: must be integer/, /exemptUsers: must be array/, /unknown key "surprise"/]) t.match(message, re);
  const good = join(certs.dir, 'good.yaml');
  await writeFile(
    good,
    `clusterLabels: { region: europe, type: edge, cohort: 2 }
parameters: { systemNamespaces: [kube-system], "gdpr.personal-data-residency": { euRegions: [europe] } }
actions: { "pss.restricted.*": warn, "quota.container-resources": audit }
exemptNamespaces: [kube-system, fleetgate-system]
exemptUsers: ["system:serviceaccount:kube-system:*"]
failurePolicy: open
timeoutMs: 2000
`,
  );
  const settings = mergeSettings(await loadConfigFile(good), { labels: { region: 'asia' }, actions: { 'quota.container-resources': 'deny' } });
  t.same(settings.cluster.labels, { region: 'asia', type: 'edge', cohort: '2' }, 'flags override the file');
  t.same(settings.cluster.actions, { 'pss.restricted.*': 'warn', 'quota.container-resources': 'deny' });
  t.equal(settings.failurePolicy, 'open');
  t.equal(settings.timeoutMs, 2000);
  t.same(settings.exemptUsers, ['system:serviceaccount:kube-system:*']);
  const withParams = mergeSettings(await loadConfigFile(good), { parameters: { systemNamespaces: ['kube-system'], 'gdpr.*': { euRegions: ['asia'] } } });
  t.same(withParams.cluster.parameters, { ...settings.cluster.parameters, systemNamespaces: ['kube-system'], 'gdpr.*': { euRegions: ['asia'] } }, '--param wins name by name');
  if (!built) return;
  const p = run(['--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--config', bad, '--port', '0']);
  t.equal(await p.exited, 2, `a bad config file exits 2 ${p.err()}`);
  t.match(p.err(), /unknown key "surprise"/);
  // Parameters no loaded policy declares: a typo would silently keep the default, so serve refuses to start.
  const typo = join(certs.dir, 'typo.yaml');
  await writeFile(typo, 'parameters: { euRegion: [europe], "gdpr.personal-data-residency": { euRegions: [europe], eu: [x] } }\n');
  const undeclared = run(['--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--config', typo, '--port', '0', '--no-namespace-watch']);
  t.equal(await undeclared.exited, 2, `an undeclared parameter in --config exits 2 ${undeclared.err()}`);
  t.match(undeclared.err(), /--config .*typo\.yaml: parameters euRegion: no policy declares the parameter "euRegion" \(did you mean "euRegions"\?\)/);
  t.match(undeclared.err(), /gdpr\.personal-data-residency:eu: policy gdpr\.personal-data-residency declares no parameter "eu"/);
  const flag = run(['--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--param', 'maxReplica=3', '--port', '0', '--no-namespace-watch']);
  t.equal(await flag.exited, 2, 'and so does an undeclared --param');
  t.match(flag.err(), /--param maxReplica: no policy declares the parameter "maxReplica"/);
  const noTls = run(['--port', '0']);
  t.equal(await noTls.exited, 2, 'TLS files are required');
  t.match(noTls.err(), /--tls-cert and --tls-key are required/);
});

t.test('fleetgate serve answers over HTTPS and SIGTERM drains in-flight reviews then exits 0', { skip: built ? false : 'needs npm run build' }, async (t) => {
  const certs = await makeCerts(t);
  // A user policy that takes 300 ms, so the review is still in flight when SIGTERM arrives.
  const policyFile = join(certs.dir, 'slow.ts');
  await writeFile(
    policyFile,
    `import { definePolicy } from 'fleetgate';
export default definePolicy({
  id: 'test.slow-configmap', title: 'slow', area: 'test', severity: 'low', action: 'deny',
  match: { kinds: ['ConfigMap'] },
  validate({ object, report }) {
    const until = Date.now() + 300;
    while (Date.now() < until) {}
    if (object.metadata?.name === 'bad') report('bad name');
  },
  examples: { pass: [{}], fail: [{}] },
});
`,
  );
  const p = run([
    '--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--port', '0', '--host', '127.0.0.1',
    '--cluster-label', 'region=europe', '--action', 'isolation.no-host-namespaces=warn', '--action', 'pss.baseline.host-namespaces=warn', '--policies', policyFile, '--no-namespace-watch',
  ]);
  t.teardown(() => p.child.kill('SIGKILL'));
  let port = 0;
  for (let i = 0; i < 200 && !(port && p.out().includes('ready')); i++) {
    await new Promise((r) => setTimeout(r, 50));
    const m = /"port":(\d+),"host"/.exec(p.out());
    if (m) port = Number(m[1]);
  }
  t.ok(port, 'listening');
  t.match(p.out(), /policies loaded; ready/);
  const agent = new Agent({ ca: certs.cert, keepAlive: true });
  const post = (body: unknown) =>
    new Promise<{ status: number; json: any }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/validate', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  const warned = await post(review(hostPidPod()));
  t.equal(warned.json.response.allowed, true, '--action ID=warn admits');
  t.match(warned.json.response.warnings[0], /isolation\.no-host-namespaces/);
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bad', namespace: 'shop' } };
  const inFlight = post(review(cm, { uid: 'in-flight' }));
  await new Promise((r) => setTimeout(r, 100));
  p.child.kill('SIGTERM');
  const r = await inFlight;
  t.equal(r.json.response.uid, 'in-flight', 'the in-flight review was answered');
  t.equal(r.json.response.allowed, false);
  t.equal(await p.exited, 0, 'exit 0');
  t.match(p.out(), /"msg":"stopped"/);
  agent.destroy();
  void nonEuServiceEntry;
});
