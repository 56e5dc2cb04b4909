// The practices/upgrade catalogue through the CLI as users run it (spawned process, real files): image-scoped
// exceptions, one finding per field, upstream Gatekeeper-library cases with equivalent parameters.
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { inProcessEvaluator } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';
import { builtinPolicies } from '../../policies/index.js';
import { parseImage } from '../../policies/practices/common.js';

const byId = (id: string) => builtinPolicies.find((p) => p.id === id)!;
const judge = (id: string, objects: KubeObject[], params: Record<string, unknown> = {}, labels: Record<string, string> = {}) =>
  inProcessEvaluator([byId(id)], { labels, parameters: { [id]: params } }).evaluate(objects.map((object) => ({ object }))).findings.filter((f) => f.policy === id);

const pod = (spec: Record<string, unknown>, name = 'opa'): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec });

t.test('image references: the registry port is not a tag; digests and tags', async (t) => {
  t.same(parseImage('registry.example:5000/app'), { registry: 'registry.example:5000', repository: 'app', tag: undefined, digest: undefined });
  t.same(parseImage('registry.example:5000/app:1.2'), { registry: 'registry.example:5000', repository: 'app', tag: '1.2', digest: undefined });
  t.same(parseImage('nginx'), { registry: undefined, repository: 'nginx', tag: undefined, digest: undefined });
  t.same(parseImage('localhost/a/b:dev@sha256:abc'), { registry: 'localhost', repository: 'a/b', tag: 'dev', digest: 'sha256:abc' });
  t.same(parseImage('team/app:latest').registry, undefined, 'a first path component without . or : is a Docker Hub namespace');
});

t.test('Gatekeeper library k8sdisallowedtags samples (tags: [latest], exemptImages) give the same verdicts', async (t) => {
  const params = { disallowedTags: ['latest'], exemptImages: ['openpolicyagent/opa-exp:latest', 'openpolicyagent/opa-exp2:latest'] };
  const c = (name: string, image: string) => ({ name, image });
  t.equal(judge('practices.image-tag', [pod({ containers: [c('opa', 'openpolicyagent/opa:0.9.2')] })], params).length, 0, 'example_allowed');
  t.equal(
    judge('practices.image-tag', [pod({ containers: [c('opa-exp', 'openpolicyagent/opa-exp:latest'), c('opa-init', 'openpolicyagent/init:v1'), c('opa-exp2', 'openpolicyagent/opa-exp2:latest')] })], params).length,
    0,
    'example_exempt_image_w_disallowed_tag',
  );
  t.equal(judge('practices.image-tag', [pod({ containers: [c('opa', 'openpolicyagent/opa')] })], params).length, 1, 'example_no_tag');
  t.equal(judge('practices.image-tag', [pod({ containers: [c('opa', 'openpolicyagent/opa:latest')] })], params).length, 1, 'example_disallowed_tag');
  const eph = judge('practices.image-tag', [pod({ containers: [c('opa', 'openpolicyagent/opa:0.9.2')], ephemeralContainers: [c('opa', 'openpolicyagent/opa:latest')] })], params);
  t.same(eph.map((f) => f.path), ['$.spec.ephemeralContainers[0].image'], 'disallowed_tag_ephemeral');
  const some = judge('practices.image-tag', [pod({ containers: [c('a', 'openpolicyagent/opa-exp:latest'), c('b', 'openpolicyagent/init:latest'), c('c', 'openpolicyagent/opa-exp2:latest'), c('d', 'openpolicyagent/monitor:latest')] })], params);
  t.same(some.map((f) => f.path), ['$.spec.containers[1].image', '$.spec.containers[3].image'], 'example_some_disallowed_tags: the two not exempt');
});

t.test('Gatekeeper library k8sallowedrepos, k8sreplicalimits and automount samples', async (t) => {
  const repos = { repos: ['openpolicyagent/'] };
  t.equal(judge('practices.allowed-registries', [pod({ containers: [{ name: 'opa', image: 'openpolicyagent/opa:0.9.2' }] })], repos).length, 0, 'allowedrepos: allowed');
  t.equal(judge('practices.allowed-registries', [pod({ containers: [{ name: 'nginx', image: 'nginx' }], initContainers: [{ name: 'init', image: 'nginx' }] })], repos).length, 2, 'allowedrepos: container and initContainer disallowed');
  const dep = (replicas: number): KubeObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' }, spec: { replicas, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.14.2' }] } } } });
  const ranges = { ranges: { default: [{ min_replicas: 3, max_replicas: 50 }] } };
  t.equal(judge('practices.replica-limits', [dep(3)], ranges).length, 0, 'replicalimits: 3 allowed');
  t.equal(judge('practices.replica-limits', [dep(100)], ranges).length, 1, 'replicalimits: 100 disallowed');
  t.equal(judge('practices.no-automount-service-account-token', [pod({ automountServiceAccountToken: false, containers: [{ name: 'nginx', image: 'nginx' }] })]).length, 0, 'automount: false allowed');
  t.equal(judge('practices.no-automount-service-account-token', [pod({ automountServiceAccountToken: true, containers: [{ name: 'nginx', image: 'nginx' }] })]).length, 1, 'automount: true disallowed');
});

t.test('an image-scoped PolicyException waives a vetted image, not its namespace', async (t) => {
  const dir = await tempDir(t, 'fg-image-exception-');
  const manifests = `apiVersion: v1
kind: Pod
metadata: {name: mixed, namespace: shop}
spec:
  containers:
  - {name: vetted, image: "registry.example/vetted/agent:latest"}
  - {name: other, image: "registry.example/shop/web:latest"}
---
apiVersion: fleetgate.io/v1alpha1
kind: PolicyException
metadata: {name: vetted-agent, namespace: fleetgate-system}
spec:
  policies: [practices.image-tag]
  resources: [{images: ["registry.example/vetted/*"]}]
  expires: "2099-12-31"
  reason: the vetted agent is pinned by the vendor's admission controller
`;
  await writeFile(join(dir, 'pod.yaml'), manifests);
  const r = await runCli(['lint', dir, '--format', 'json']);
  const out = JSON.parse(r.stdout);
  const tags = out.findings.filter((f: { policy: string }) => f.policy === 'practices.image-tag');
  t.same(tags.map((f: { path: string }) => f.path), ['$.spec.containers[1].image'], 'only the other container is reported');
  t.equal(out.summary.waived, 1, 'the vetted container is waived and counted');
  await writeFile(join(dir, 'pod.yaml'), manifests.replace('[{images: ["registry.example/vetted/*"]}]', '[{images: []}]'));
  const bad = JSON.parse((await runCli(['lint', dir, '--format', 'json'])).stdout);
  t.match(bad.findings.find((f: { policy: string }) => f.policy === 'fleetgate.exception-invalid')?.message, /images must list image names/);
});

t.test('one finding per offending field: hostNetwork is reported once, naming both policies; a waiver of one keeps the other', async (t) => {
  const dir = await tempDir(t, 'fg-dedupe-');
  const dep = `apiVersion: apps/v1
kind: Deployment
metadata: {name: agent, namespace: shop}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      containers: [{name: agent, image: "agent:1.0"}]
`;
  await writeFile(join(dir, 'dep.yaml'), dep);
  const out = JSON.parse((await runCli(['lint', dir, '--format', 'json'])).stdout);
  const host = out.findings.filter((f: { path: string }) => f.path === '$.spec.template.spec.hostNetwork');
  t.equal(host.length, 1);
  t.equal(host[0].policy, 'isolation.no-host-namespaces');
  t.match(host[0].message, /\(also pss\.baseline\.host-namespaces\)/);
  await writeFile(
    join(dir, 'waiver.yaml'),
    'apiVersion: fleetgate.io/v1alpha1\nkind: PolicyException\nmetadata: {name: w}\nspec:\n  policies: [isolation.no-host-namespaces]\n  resources: [{kind: Deployment, name: agent}]\n  expires: "2099-01-01"\n  reason: test\n',
  );
  const waived = JSON.parse((await runCli(['lint', dir, '--format', 'json'])).stdout);
  const left = waived.findings.filter((f: { path: string }) => f.path === '$.spec.template.spec.hostNetwork');
  t.same(left.map((f: { policy: string }) => f.policy), ['pss.baseline.host-namespaces'], 'the other policy still reports the field');
});

t.test('upgrade readiness in a scan of the example fleet: cohort 1 is blocked by a live HPA last applied as autoscaling/v2beta2', async (t) => {
  const r = await runCli(['scan', '--fleet', 'examples/fleet/fleet.yaml', '--format', 'pretty']);
  t.match(r.stdout, /Upgrade readiness per cohort/);
  t.match(r.stdout, /cohort 1 → 1\.36: 0\/1 clusters ready/);
  t.match(r.stdout, /par01 blocked by 1 object/);
  t.match(r.stdout, /HorizontalPodAutoscaler shop\/frontend: .*autoscaling\/v2beta2.*1\.26.*migrate to autoscaling\/v2/);
  t.match(r.stdout, /cohort 2: 2\/2 clusters ready/);
  const json = JSON.parse((await runCli(['scan', '--fleet', 'examples/fleet/fleet.yaml', '--format', 'json'])).stdout);
  const par01 = json.clusters.find((c: { name: string }) => c.name === 'par01');
  t.same(
    par01.findings.filter((f: { policy: string }) => f.policy.startsWith('upgrade.')).map((f: { policy: string; path: string }) => [f.policy, f.path]),
    [['upgrade.removed-api', "$.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']"]],
  );
});

t.test('targetVersion must be a quoted version: a YAML number is a clear policy error', async (t) => {
  const f = inProcessEvaluator([byId('upgrade.removed-api')], { parameters: { targetVersion: 1.3 } }).evaluate([{ object: { apiVersion: 'batch/v1beta1', kind: 'CronJob', metadata: { name: 'c' } } }]).findings;
  t.equal(f.length, 1);
  t.ok(f[0].error);
  t.match(f[0].message, /quote it/);
});
