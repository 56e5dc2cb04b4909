// `fleetgate lint --fleet FILE` (a spawned CLI) on fleets built for it: a policy failing only where an overlay
// applies, judged with each cluster's labels and actions; broken overlays and kustomizations.
import t from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';

async function put(root: string, file: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, file)), { recursive: true });
  await writeFile(join(root, file), text);
}

const show = (f: any) => `${f.cluster} ${f.action} ${f.source?.file}:${f.source?.line} ${f.path}`;
const byPolicy = (report: any, id: string) => report.findings.filter((f: any) => f.policy === id).map(show);
/** One finding per field: the host-network field is found by isolation.* and pss.baseline.* (one of them in `also`). */
const HOST_NETWORK = '$.spec.template.spec.hostNetwork';
const atField = (report: any, path: string) => report.findings.filter((f: any) => f.path === path).map(show);

/**
 * par01 (EU edge), fra01 (EU transit), sin01 (APAC edge, its own action for no-host-namespaces). The edge overlay
 * patches the base Deployment with hostNetwork; only the base's Namespace lacks a data class (judged on EU only).
 */
async function makeFleet(root: string, extra: { layers?: string; files?: Record<string, string> } = {}): Promise<string> {
  await put(root, 'fleet.yaml', `repo: ./repo
layers:
  - { path: base }
  - { path: overlays/edge, when: { type: edge } }
${extra.layers ?? ''}clusters:
  - { name: par01, labels: { region: europe, type: edge }, source: { snapshot: clusters/par01 } }
  - { name: fra01, labels: { region: europe, type: transit }, source: { snapshot: clusters/fra01 } }
  - name: sin01
    labels: { region: apac, type: edge }
    source: { snapshot: clusters/sin01 }
    actions: { isolation.no-host-namespaces: audit, pss.baseline.*: audit }
`);
  await put(root, 'repo/base/shop.yaml', `apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: { fleetgate.io/critical: "true" }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - { name: web, image: registry.example/web:1.0 }
`);
  await put(root, 'repo/overlays/edge/web.yaml', `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  template:
    spec:
      hostNetwork: true
`);
  for (const [file, text] of Object.entries(extra.files ?? {})) await put(root, file, text);
  return join(root, 'fleet.yaml');
}

t.test('a policy failing only where an overlay applies: the overlay line, each cluster with its own labels and actions', async (t) => {
  const root = await tempDir(t, 'fleetgate-lint-fleet-');
  const fleet = await makeFleet(root);
  const r = await runCli(['lint', '--fleet', fleet, '--format', 'json'], { cwd: root });
  t.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  t.same(report.errors, []);
  t.same(atField(report, HOST_NETWORK), [
    'par01 deny repo/overlays/edge/web.yaml:7 $.spec.template.spec.hostNetwork',
    'sin01 audit repo/overlays/edge/web.yaml:7 $.spec.template.spec.hostNetwork',
  ], 'the edge overlay\'s patch, on the edge clusters only, with sin01\'s own action');
  t.same(byPolicy(report, 'gdpr.namespace-declares-data-class'), [
    'par01 deny repo/base/shop.yaml:3 $.metadata',
    'fra01 deny repo/base/shop.yaml:3 $.metadata',
  ], 'judged with the cluster\'s labels: EU clusters only');
  t.same(byPolicy(report, 'fleet.blast-radius'), ['sin01 warn repo/base/shop.yaml:5 $'], 'the fleet rule over every cluster\'s desired state: web runs in one APAC cluster');
  t.equal(report.summary.clusters, 3);

  const quiet = await runCli(['lint', '--fleet', fleet, '--format', 'json', '--action', '*=audit'], { cwd: root });
  t.equal(quiet.code, 0, '--action applies to every cluster (and to the fleet rules)');
  t.ok(JSON.parse(quiet.stdout).findings.every((f: any) => f.action === 'audit'));
});

t.test('a broken overlay or kustomization is a clear error; everything else is linted and fleet rules say unknown', async (t) => {
  const root = await tempDir(t, 'fleetgate-lint-fleet-');
  const fleet = await makeFleet(root, {
    layers: '  - { path: overlays/apac, when: { region: apac } }\n',
    files: {
      'repo/overlays/edge/broken.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x, namespace: shop\ndata: {}\n',
      'repo/overlays/apac/kustomization.yaml': 'resources: [missing.yaml]\n',
    },
  });
  const r = await runCli(['lint', '--fleet', fleet, '--format', 'json'], { cwd: root });
  t.equal(r.code, 2, 'unusable input: exit 2');
  const report = JSON.parse(r.stdout);
  t.match(report.errors, [{ file: /overlays\/edge\/broken\.yaml$/, line: Number }, { file: /overlays\/apac$/, message: /kubectl kustomize failed|kubectl is not on PATH/ }]);
  t.equal(report.errors.length, 2);
  t.same(atField(report, HOST_NETWORK).length, 2, 'the readable part of the broken overlay is still linted');
  t.same(byPolicy(report, 'gdpr.namespace-declares-data-class').length, 2, 'and every other cluster');
  const blast = report.summary.fleetRules.rules.find((x: any) => x.policy === 'fleet.blast-radius');
  t.match(blast.unknown, [{ cluster: 'par01', reason: /could not be read/ }], 'a cluster whose desired state is incomplete is unknown, never a pass');
  const pretty = await runCli(['lint', '--fleet', fleet, '--format', 'pretty'], { cwd: root });
  t.match(pretty.stdout, /overlays\/edge\/broken\.yaml:\d+:\d+\s+error\s+/);
  t.match(pretty.stdout, /fleet\.blast-radius\s+no findings; unknown on par01/);
});
