// lint and serve apply a PolicyRollout's stage action by the cluster's cohort label.
import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { cliCommand, runCli, tempDir } from '../helpers/cli.js';
import { makeCerts, review } from '../helpers/webhook.js';
import { HOUR, resources, namespace, rolloutYaml, makeFleet } from '../helpers/rollout-fleet.js';

t.test('lint applies the stage\'s action by the cluster\'s cohort label; a malformed rollout is a finding with file:line', async (t) => {
  const root = await tempDir(t, 'fleetgate-rollout-');
  await makeFleet(root, new Date(Date.now() - 2 * HOUR));
  const pod = join(root, 'clusters/c1-a/pods.yaml');
  const rollouts = join(root, 'repo/base/rollouts.yaml');
  const actionFor = async (...labels: string[]) => {
    const r = await runCli(['lint', rollouts, pod, '--format', 'json', ...labels.flatMap((l) => ['--cluster-label', l])]);
    return JSON.parse(r.stdout).findings.filter((f: any) => f.policy === 'quota.container-resources').map((f: any) => f.action);
  };
  t.same(await actionFor('cohort=1'), ['deny'], 'cohort 1 is reached: deny');
  t.same(await actionFor('cohort=3'), ['audit'], 'cohort 3 is not: before (audit)');
  const withFlag = await runCli(['lint', rollouts, pod, '--format', 'json', '--cluster-label', 'cohort=3', '--action', 'quota.container-resources=warn']);
  t.same(JSON.parse(withFlag.stdout).findings.filter((f: any) => f.policy === 'quota.container-resources').map((f: any) => f.action), ['warn'], '--action still wins');

  const bad = join(root, 'bad-rollout.yaml');
  await writeFile(bad, `${namespace}---\napiVersion: fleetgate.io/v1alpha1\nkind: PolicyRollout\nmetadata: { name: typo }\nspec:\n  policies: [quota.container-resources]\n  stages: [{ cohort: ["1"], action: deny }]\n`);
  const r = await runCli(['lint', bad, '--format', 'json']);
  const f = JSON.parse(r.stdout).findings.find((x: any) => x.policy === 'fleetgate.rollout-invalid');
  t.match(f, { action: 'warn', resource: { kind: 'PolicyRollout', name: 'typo' }, source: { line: 5 } });
  t.match(f.message, /spec\.stages\[0\]\.cohort is not a PolicyRollout field/);

  const table = await runCli(['policies', '--cluster-label', 'cohort=1', '--rollouts', join(root, 'repo')]);
  t.match(table.stdout, /quota\.container-resources\s+quota\s+high\s+deny\s+rollout container-resources stage 1\s/);
});

t.test('serve applies the rollouts of its config by the cluster\'s cohort', async (t) => {
  const certs = await makeCerts(t);
  const root = await tempDir(t, 'fleetgate-rollout-');
  const rollout = rolloutYaml('status: { stage: 1 }\n').replace(/^#.*\n/, '');
  const indented = rollout.split('\n').map((l) => (l ? `    ${l}` : l)).join('\n');
  const serve = async (cohort: string) => {
    const config = join(root, `config-${cohort}.yaml`);
    await writeFile(config, `clusterLabels: { cohort: "${cohort}" }\nrollouts:\n  -\n${indented}`);
    const child = spawn(...cliCommand(['serve', '--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--port', '0', '--host', '127.0.0.1', '--config', config, '--no-namespace-watch']), { stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => child.kill('SIGKILL'));
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    let port = 0;
    for (let i = 0; i < 200 && !(port && out.includes('ready')); i++) {
      await new Promise((r) => setTimeout(r, 50));
      port = Number(/"port":(\d+),"host"/.exec(out)?.[1] ?? 0);
    }
    if (!port) throw new Error(`serve did not start: ${err}`);
    const agent = new Agent({ ca: certs.cert });
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace: 'shop' }, spec: { containers: [{ name: 'debug', image: 'busybox:1.36' }] } };
    const reply = await new Promise<any>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/validate', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(JSON.parse(text)));
      });
      req.on('error', reject);
      req.end(JSON.stringify(review(pod)));
    });
    child.kill('SIGTERM');
    agent.destroy();
    return reply.response;
  };
  const reached = await serve('1');
  t.equal(reached.allowed, false, 'cohort 1 (reached): denied');
  t.match(reached.status.message, /quota\.container-resources/);
  const notYet = await serve('3');
  t.equal(notYet.allowed, true, 'cohort 3 (not reached): admitted, the finding is only audited');
  t.notMatch(JSON.stringify(notYet.warnings ?? []), /quota\.container-resources/);

  const badConfig = join(root, 'bad.yaml');
  await writeFile(badConfig, 'rollouts:\n  - { apiVersion: fleetgate.io/v1alpha1, kind: PolicyRollout, metadata: { name: r }, spec: { policies: [x], stages: [] } }\n');
  const bad = await runCli(['serve', '--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--port', '0', '--config', badConfig]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /rollouts\[0\] \(r\): invalid PolicyRollout: spec\.stages must list at least one stage/);
});
