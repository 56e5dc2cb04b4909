// A fleet with cohorts 0–3 and a PolicyRollout in its config repo, for the rollout tests (one file per concern, so
// that each stays well inside tap's per-file budget on a busy 2-core machine).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runCli } from './cli.js';

export const HOUR = 3600_000;

export const resources = '{ requests: { cpu: 100m, memory: 64Mi }, limits: { cpu: 200m, memory: 128Mi } }';
export const deployment = (withResources: boolean) => `apiVersion: apps/v1
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
export const bareCache = `apiVersion: apps/v1
kind: Deployment
metadata: { name: cache, namespace: shop }
spec:
  selector: { matchLabels: { app: cache } }
  template:
    metadata: { labels: { app: cache } }
    spec:
      containers: [{ name: cache, image: "redis:7", resources: ${resources} }]
`;
export const brokenCache = bareCache.replace(`, resources: ${resources}`, '');
export const namespace = 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n';
export const barePod = 'apiVersion: v1\nkind: Pod\nmetadata: { name: debug, namespace: shop }\nspec:\n  containers: [{ name: debug, image: "busybox:1.36" }]\n';

export function rolloutYaml(status: string): string {
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

export async function put(root: string, file: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, file)), { recursive: true });
  await writeFile(join(root, file), text);
}

/** A fleet of five snapshot clusters in cohorts 0–3; cohort 1's cluster runs a pod without resources. */
export async function makeFleet(root: string, since: Date): Promise<string> {
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

export async function rolloutStatusJson(fleet: string): Promise<any> {
  const r = await runCli(['rollout', 'status', '--fleet', fleet, '--format', 'json']);
  if (r.code !== 0) throw new Error(`rollout status exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout).rollouts[0];
}

