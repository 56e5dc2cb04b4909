// Cohort rollouts end to end, as users run them: a fleet with cohorts 0–3 and a PolicyRollout in its config repo,
// `fleetgate rollout status|advance|pause|back` as spawned processes, and lint and serve applying the stage's action
// by cohort label.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { dirname, join } from 'node:path';
import { cliCommand, runCli, tempDir } from '../helpers/cli.js';
import { makeCerts, review } from '../helpers/webhook.js';

const HOUR = 3600_000;

const resources = '{ requests: { cpu: 100m, memory: 64Mi }, limits: { cpu: 200m, memory: 128Mi } }';
const deployment = (withResources: boolean) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: nginx:1.27
${withResources ? `          resources: ${resources}\n` : ''}`;
const bareCache = `apiVersion: apps/v1
kind: Deployment
metadata: { name: cache, namespace: shop }
spec:
  selector: { matchLabels: { app: cache } }
  template:
    metadata: { labels: { app: cache } }
    spec:
      containers: [{ name: cache, image: "redis:7", resources: ${resources} }]
`;
const brokenCache = bareCache.replace(`, resources: ${resources}`, '');
const namespace = 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n';
const barePod = 'apiVersion: v1\nkind: Pod\nmetadata: { name: debug, namespace: shop }\nspec:\n  containers: [{ name: debug, image: "busybox:1.36" }]\n';

function rolloutYaml(status: string): string {
  return `# Container resources, enforced cohort by cohort.
apiVersion: fleetgate.io/v1alpha1
kind: PolicyRollout
metadata: { name: container-resources }
spec:
  policies: ["quota.container-resources"]
  cohortLabel: cohort
  before: audit
  stages:
    - { cohorts: ["0"], action: deny }
    - { cohorts: ["1"], action: deny, soak: 1h }   # one hour on the low-traffic cohort
    - { cohorts: ["2"], action: deny, soak: 1h }
    - { cohorts: ["3"], action: deny, batchSize: 1 }
  gate: { maxFindings: 0, maxDesiredViolations: 0 }
${status}`;
}

async function put(root: string, file: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, file)), { recursive: true });
  await writeFile(join(root, file), text);
}

/** A fleet of five snapshot clusters in cohorts 0–3; cohort 1's cluster runs a pod without resources. */
async function makeFleet(root: string, since: Date): Promise<string> {
  await put(root, 'fleet.yaml', `repo: ./repo
layers:
  - path: base
  - path: overlays/cohort-2
    when: { cohort: "2" }
clusters:
  - { name: canary, labels: { cohort: "0" }, source: { snapshot: clusters/canary } }
  - { name: c1-a, labels: { cohort: "1" }, source: { snapshot: clusters/c1-a } }
  - { name: c2-a, labels: { cohort: "2" }, source: { snapshot: clusters/c2-a } }
  - { name: c3-b, labels: { cohort: "3" }, source: { snapshot: clusters/c3-b } }
  - { name: c3-a, labels: { cohort: "3" }, source: { snapshot: clusters/c3-a } }
`);
  await put(root, 'repo/base/app.yaml', `${namespace}---\n${deployment(true)}`);
  await put(root, 'repo/base/rollouts.yaml', rolloutYaml(`status: { stage: 1, since: "${since.toISOString()}" }\n`));
  await put(root, 'repo/overlays/cohort-2/cache.yaml', brokenCache);
  for (const c of ['canary', 'c1-a', 'c2-a', 'c3-a', 'c3-b']) await put(root, `clusters/${c}/app.yaml`, `${namespace}---\n${deployment(true)}`);
  await put(root, 'clusters/c1-a/pods.yaml', barePod);
  return join(root, 'fleet.yaml');
}

async function status(fleet: string): Promise<any> {
  const r = await runCli(['rollout', 'status', '--fleet', fleet, '--format', 'json']);
  if (r.code !== 0) throw new Error(`rollout status exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout).rollouts[0];
}

t.test('status: blocked by a finding at the current stage and by the next cohort\'s desired state; ready once both are clean and the soak has passed', async (t) => {
  const root = await tempDir(t, 'fleetgate-rollout-');
  const fleet = await makeFleet(root, new Date(Date.now() - 2 * HOUR));

  let s = await status(fleet);
  t.equal(s.stage, 1);
  t.same(s.stages.map((x: any) => [x.state, x.clusters]), [
    ['done', ['canary']],
    ['current', ['c1-a']],
    ['pending', ['c2-a']],
    ['pending', ['c3-a', 'c3-b']],
  ]);
  t.same(Object.fromEntries(s.clusters.map((c: any) => [c.name, c.action])), { canary: 'deny', 'c1-a': 'deny', 'c2-a': 'audit', 'c3-a': 'audit', 'c3-b': 'audit' });
  t.equal(s.next.stage, 2);
  t.equal(s.next.state, 'blocked');
  const finding = s.next.blockers.find((b: any) => b.kind === 'finding');
  t.match(finding, { cluster: 'c1-a', policy: 'quota.container-resources', resource: 'Pod shop/debug' }, 'the cohort-1 cluster\'s finding blocks');
  const violation = s.next.blockers.find((b: any) => b.kind === 'desired-violation');
  t.match(violation, { cluster: 'c2-a', policy: 'quota.container-resources', resource: 'Deployment shop/cache' }, 'the cohort-2 desired state blocks');
  t.match(violation.source.file, /overlays\/cohort-2\/cache\.yaml$/, 'with the config-repo file to fix');
  t.equal(violation.source.line, 9, 'and the line of the container');

  await writeFile(join(root, 'clusters/c1-a/pods.yaml'), barePod.replace('image: "busybox:1.36" }', `image: "busybox:1.36", resources: ${resources} }`));
  s = await status(fleet);
  t.equal(s.next.state, 'blocked', 'still blocked by the desired state alone');
  t.same(s.next.blockers.map((b: any) => b.kind), ['desired-violation']);

  await writeFile(join(root, 'repo/overlays/cohort-2/cache.yaml'), bareCache);
  s = await status(fleet);
  t.equal(s.next.state, 'ready', `ready: ${s.next.reason}`);
  t.same(s.next.blockers, []);

  await writeFile(join(root, 'repo/base/rollouts.yaml'), rolloutYaml(`status: { stage: 1, since: "${new Date(Date.now() - HOUR / 2).toISOString()}" }\n`));
  s = await status(fleet);
  t.equal(s.next.state, 'waiting', 'clean but inside the soak');
  t.match(s.next.reason, /soak of stage 1 ends .* \(3\dm left\)/);

  const pretty = await runCli(['rollout', 'status', '--fleet', fleet, '--format', 'pretty']);
  t.match(pretty.stdout, /container-resources — quota\.container-resources — stage 1/);
  t.match(pretty.stdout, /next: stage 2 \(1 cluster\(s\)\) — waiting/);
});

t.test('advance changes exactly the status lines, only when the gate holds; exit codes say what happened', async (t) => {
  const root = await tempDir(t, 'fleetgate-rollout-');
  const since = new Date(Date.now() - 2 * HOUR);
  const fleet = await makeFleet(root, since);
  const file = join(root, 'repo/base/rollouts.yaml');
  const before = await readFile(file, 'utf8');

  const blocked = await runCli(['rollout', 'advance', '--fleet', fleet, 'container-resources']);
  t.equal(blocked.code, 1, 'blocked: exit 1');
  t.match(blocked.stdout, /container-resources: blocked: .*finding/);
  t.equal(await readFile(file, 'utf8'), before, 'nothing written');
  const ifReady = await runCli(['rollout', 'advance', '--fleet', fleet, '--all', '--if-ready']);
  t.equal(ifReady.code, 3, 'with --if-ready, nothing ready is exit 3 (nothing to do)');

  const noReason = await runCli(['rollout', 'advance', '--fleet', fleet, 'container-resources', '--force']);
  t.equal(noReason.code, 2, '--force without --reason is a usage error');

  // Clean the evidence, then advance for real.
  await writeFile(join(root, 'clusters/c1-a/pods.yaml'), barePod.replace('image: "busybox:1.36" }', `image: "busybox:1.36", resources: ${resources} }`));
  await writeFile(join(root, 'repo/overlays/cohort-2/cache.yaml'), bareCache);
  const dry = await runCli(['rollout', 'advance', '--fleet', fleet, 'container-resources', '--dry-run']);
  t.equal(dry.code, 0);
  t.match(dry.stdout, /^-status: \{ stage: 1, since: ".*" \}$/m, 'the dry run shows the status line going');
  t.match(dry.stdout, /^\+status: \{ stage: 2, since: ".*" \}$/m, 'and the new one');
  t.equal(await readFile(file, 'utf8'), before, '--dry-run writes nothing');

  const ok = await runCli(['rollout', 'advance', '--fleet', fleet, 'container-resources']);
  t.equal(ok.code, 0, `advanced: ${ok.stdout}${ok.stderr}`);
  const after = await readFile(file, 'utf8');
  const a = before.split('\n');
  const b = after.split('\n');
  t.equal(b.length, a.length, 'same number of lines');
  t.same(b.map((l, i) => (l === a[i] ? null : i)).filter((i) => i !== null), [a.findIndex((l) => l.startsWith('status:'))], 'only the status line changed');
  t.match(after, /\n {4}- \{ cohorts: \["1"\], action: deny, soak: 1h \}   # one hour on the low-traffic cohort\n/, 'flow styles and comments kept');
  t.equal((await status(fleet)).stage, 2);

  const waiting = await runCli(['rollout', 'advance', '--fleet', fleet, 'container-resources']);
  t.equal(waiting.code, 1, 'the new stage soaks: not ready, exit 1');
  t.match(waiting.stdout, /waiting: soak of stage 2/);

  const forced = await runCli(['rollout', 'advance', '--fleet', fleet, 'container-resources', '--force', '--reason', 'CAB-123 approved early']);
  t.equal(forced.code, 0);
  const s3 = await status(fleet);
  t.same([s3.stage, s3.batch], [3, 1], 'into the batched stage, first batch');
  t.same(Object.fromEntries(s3.clusters.map((c: any) => [c.name, c.action])), { canary: 'deny', 'c1-a': 'deny', 'c2-a': 'deny', 'c3-a': 'deny', 'c3-b': 'audit' }, 'batches go in name order');
  t.match(await readFile(file, 'utf8'), /forcedReason: "CAB-123 approved early"/, 'the override is recorded under status');

  t.equal((await runCli(['rollout', 'pause', '--fleet', fleet, 'container-resources', '--reason', 'incident'])).code, 0);
  const paused = await runCli(['rollout', 'advance', '--fleet', fleet, '--all']);
  t.equal(paused.code, 3, 'a paused rollout has nothing to advance');
  t.match(paused.stdout, /paused \(incident\)/);
  t.equal((await runCli(['rollout', 'resume', '--fleet', fleet, 'container-resources'])).code, 0);
  t.equal((await runCli(['rollout', 'back', '--fleet', fleet, 'container-resources'])).code, 0);
  t.same((await status(fleet)).stage, 2, 'back one stage');
  const rest = (text: string) => text.slice(0, text.indexOf('\nstatus:'));
  t.equal(rest(await readFile(file, 'utf8')), rest(before), 'after every edit, everything above status: is as the author wrote it');
});

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

t.test('scan judges each cluster with its stage\'s action and reports the rollout\'s progress', async (t) => {
  const root = await tempDir(t, 'fleetgate-rollout-');
  const fleet = await makeFleet(root, new Date(Date.now() - 2 * HOUR));
  await put(root, 'clusters/c3-a/pods.yaml', barePod);
  const r = await runCli(['scan', '--fleet', fleet, '--format', 'json']);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const actionOf = (name: string) =>
    report.clusters.find((c: any) => c.name === name).findings.filter((f: any) => f.policy === 'quota.container-resources').map((f: any) => f.action);
  t.same(actionOf('c1-a'), ['deny'], 'cohort 1 is enforced');
  t.same(actionOf('c3-a'), ['audit'], 'cohort 3 only audits');
  t.same(report.clusters.map((c: any) => c.drift.filter((d: any) => d.resource.kind === 'PolicyRollout').length), [0, 0, 0, 0, 0], 'a rollout held only in the config repo is not drift');
  t.match(report.rollouts, [{ name: 'container-resources', stage: 1, actions: { deny: 2, audit: 3 }, next: { stage: 2, clusters: 1 } }]);
  const html = await runCli(['scan', '--fleet', fleet, '--format', 'html']);
  t.match(html.stdout, /<h2>Policy rollouts<\/h2>.*container-resources.*stage 2\/4/s);
});
