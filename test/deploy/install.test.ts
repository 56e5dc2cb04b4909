// deploy/install.yaml is the chart rendered by Helm (`npm run render:install`, scripts/render-install.mjs): checked
// for being current, and for what it says (structurally, and against the chart's templates and values.yaml).
import t from 'tap';
import { renderInstall } from '../../scripts/render-install.mjs';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';

const root = join(import.meta.dirname, '..', '..');
const chart = join(root, 'charts', 'fleetgate');
type Obj = Record<string, any>;
const docs: Obj[] = parseAllDocuments(readFileSync(join(root, 'deploy', 'install.yaml'), 'utf8'))
  .map((d) => d.toJS())
  .filter((o) => o && typeof o === 'object');
const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8'));
const templates = readdirSync(join(chart, 'templates'))
  .map((f) => readFileSync(join(chart, 'templates', f), 'utf8'))
  .join('\n');
const one = (kind: string, name?: string) => {
  const found = docs.filter((o) => o.kind === kind && (!name || o.metadata?.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
};

const vwc = one('ValidatingWebhookConfiguration');
const hook = vwc.webhooks[0];
const deploy = one('Deployment', 'fleetgate-webhook');
const pod = deploy.spec.template.spec;
const container = pod.containers[0];
const config = parse(one('ConfigMap', 'fleetgate-config').data['config.yaml']);

t.test('install.yaml is `helm template` of the chart, not a hand-kept copy', async (t) => {
  const current = readFileSync(join(root, 'deploy', 'install.yaml'), 'utf8');
  t.ok(current === renderInstall(), 'deploy/install.yaml is current (stale: run `npm run render:install`)');
  t.match(current, /^# Source: fleetgate\/templates\/deployment\.yaml$/m, 'rendered by Helm');
});

t.test('the webhook configuration', async (t) => {
  t.equal(vwc.webhooks.length, 1);
  t.same(hook.admissionReviewVersions, ['v1']);
  t.equal(hook.sideEffects, 'None');
  t.ok(hook.timeoutSeconds >= 1 && hook.timeoutSeconds < 30, 'timeoutSeconds within 1..29');
  t.ok(config.timeoutMs < hook.timeoutSeconds * 1000, "the webhook's own budget is below the API server's timeout");
  t.ok(['Fail', 'Ignore'].includes(hook.failurePolicy));
  t.equal(hook.failurePolicy === 'Fail' ? 'closed' : 'open', config.failurePolicy, 'failurePolicy and policyErrors agree');
  const notIn = hook.namespaceSelector.matchExpressions.find(
    (e: Obj) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn',
  );
  t.ok(notIn, 'a namespaceSelector on the namespace name');
  t.ok(notIn.values.includes('kube-system') && notIn.values.includes('fleetgate-system'), 'kube-system and fleetgate-system exempt');
  t.same([...config.exemptNamespaces].sort(), [...notIn.values].sort(), 'the webhook config exempts the same namespaces');
  t.same(hook.clientConfig.service, { name: 'fleetgate-webhook', namespace: 'fleetgate-system', path: '/validate', port: 443 });
  t.ok(Array.isArray(hook.matchConditions) && hook.matchConditions.length > 0, 'matchConditions');
  t.equal(vwc.metadata.annotations['cert-manager.io/inject-ca-from'], 'fleetgate-system/fleetgate-webhook', 'CA injected');
  const cert = one('Certificate', 'fleetgate-webhook');
  t.ok(cert.spec.dnsNames.includes('fleetgate-webhook.fleetgate-system.svc'), 'the certificate names the Service');
  t.equal(cert.spec.secretName, pod.volumes.find((v: Obj) => v.name === 'tls').secret.secretName, 'the pod mounts that Secret');
});

t.test('the Deployment', async (t) => {
  t.equal(deploy.spec.replicas, 3);
  t.equal(deploy.spec.strategy.rollingUpdate.maxUnavailable, 0);
  t.equal(container.readinessProbe.httpGet.path, '/readyz');
  t.equal(container.livenessProbe.httpGet.path, '/healthz');
  t.equal(container.readinessProbe.httpGet.scheme, 'HTTPS');
  for (const k of ['requests', 'limits']) for (const r of ['cpu', 'memory']) t.ok(container.resources[k][r], `${k}.${r}`);
  t.equal(pod.securityContext.runAsNonRoot, true);
  t.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  t.equal(container.securityContext.readOnlyRootFilesystem, true);
  t.equal(container.securityContext.allowPrivilegeEscalation, false);
  t.same(container.securityContext.capabilities.drop, ['ALL']);
  const tmp = container.volumeMounts.find((m: Obj) => m.mountPath === '/tmp');
  t.ok(tmp && pod.volumes.find((v: Obj) => v.name === tmp.name).emptyDir, 'an emptyDir at /tmp for esbuild');
  t.ok(pod.topologySpreadConstraints?.length && pod.affinity?.podAntiAffinity, 'spread and anti-affinity');
  t.ok(container.args.includes('serve'));
  t.ok(container.args.some((a: string) => a.startsWith('--config=')), '--config');
  t.ok(container.args.some((a: string) => a.startsWith('--tls-cert=')), '--tls-cert');
  const svc = one('Service', 'fleetgate-webhook');
  for (const [k, v] of Object.entries(svc.spec.selector)) t.equal(pod === undefined ? undefined : deploy.spec.template.metadata.labels[k], v, `Service selects the pods (${k})`);
});

t.test('a PodDisruptionBudget covers the webhook pods', async (t) => {
  const pdb = one('PodDisruptionBudget');
  t.ok(pdb.spec.maxUnavailable === 1 || pdb.spec.minAvailable !== undefined);
  for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) t.equal(deploy.spec.template.metadata.labels[k], v);
});

t.test('the namespace and its guard rails', async (t) => {
  const ns = one('Namespace', 'fleetgate-system');
  t.equal(ns.metadata.labels['fleetgate.io/system'], 'true');
  t.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
  const quota = one('ResourceQuota');
  t.ok(quota.spec.hard.pods && quota.spec.hard['limits.cpu'] && quota.spec.hard['limits.memory']);
  one('LimitRange');
  const deny = one('NetworkPolicy', 'default-deny');
  t.same(deny.spec, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  const ingress = one('NetworkPolicy', 'fleetgate-webhook-ingress');
  t.equal(ingress.spec.ingress[0].ports[0].port, container.ports[0].containerPort, 'ingress opens the webhook port');
});

t.test('least RBAC: read namespaces, nothing else', async (t) => {
  const role = one('ClusterRole', 'fleetgate-webhook');
  t.same(role.rules, [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] }]);
  t.equal(docs.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole').length, 1);
});

t.test('install.yaml and the chart do not drift apart', async (t) => {
  t.equal(values.webhook.replicas, deploy.spec.replicas, 'replicas');
  t.equal(values.webhook.failurePolicy, hook.failurePolicy, 'failurePolicy');
  t.equal(values.webhook.timeoutSeconds, hook.timeoutSeconds, 'timeoutSeconds');
  t.equal(values.webhook.timeoutMs, config.timeoutMs, 'timeoutMs');
  t.equal(values.webhook.policyErrors, config.failurePolicy, 'policy error behaviour');
  t.same(values.webhook.operations, hook.rules[0].operations, 'operations');
  t.same(values.webhook.matchConditions, hook.matchConditions, 'matchConditions');
  t.same(values.webhook.resources, container.resources, 'resources');
  t.equal(values.webhook.port, container.ports[0].containerPort, 'port');
  t.equal(values.webhook.podDisruptionBudget.maxUnavailable, one('PodDisruptionBudget').spec.maxUnavailable, 'PDB');
  t.equal(values.webhook.priorityClassName, pod.priorityClassName, 'priorityClassName');
  t.same([...values.exemptNamespaces, 'fleetgate-system'].sort(), [...config.exemptNamespaces].sort(), 'exempt namespaces');
  t.same(values.exemptUsers, config.exemptUsers, 'exempt users');
  t.same(values.resourceQuota.hard, one('ResourceQuota').spec.hard, 'quota');
  const lr = one('LimitRange').spec.limits[0];
  t.same({ defaultRequest: lr.defaultRequest, default: lr.default, max: lr.max }, {
    defaultRequest: values.limitRange.defaultRequest, default: values.limitRange.default, max: values.limitRange.max,
  }, 'limit range');
  t.match(container.image, new RegExp(`^${values.image.repository}:`), 'image repository');
  t.equal(container.env.find((e: Obj) => e.name === 'NODE_OPTIONS').value, `--max-old-space-size=${values.webhook.maxOldSpaceSizeMb}`);
  // What the templates write literally, install.yaml must say too.
  for (const literal of [
    'admissionReviewVersions: ["v1"]',
    'sideEffects: None',
    'name: validate.fleetgate.io',
    'path: /validate',
    'path: /healthz',
    'path: /readyz',
    'maxUnavailable: 0',
    'readOnlyRootFilesystem: true',
    'type: RuntimeDefault',
    'drop: ["ALL"]',
    'mountPath: /tmp',
    'whenUnsatisfiable: ScheduleAnyway',
    'cert-manager.io/inject-ca-from',
    'resources: ["namespaces"]',
    'verbs: ["get", "list", "watch"]',
    '- --tls-cert=/etc/fleetgate/tls/tls.crt',
    '- --config=/etc/fleetgate/config/config.yaml',
    'command: ["node", "-e", "setTimeout(() => {}, 5000)"]',
  ]) {
    t.ok(templates.includes(literal), `templates: ${literal}`);
    t.ok(readFileSync(join(root, 'deploy', 'install.yaml'), 'utf8').includes(literal), `install.yaml: ${literal}`);
  }
});

t.test('the Dockerfile keeps its promises', async (t) => {
  const df = readFileSync(join(root, 'Dockerfile'), 'utf8');
  t.match(df, /^FROM \$\{NODE_IMAGE\} AS build$/m, 'multi-stage');
  t.match(df, /ARG NODE_IMAGE=node:20-slim/);
  t.match(df, /npm ci --omit=dev --ignore-scripts/, 'production dependencies only');
  t.match(df, /^USER 1000:1000$/m, 'numeric non-root user');
  t.equal(String(pod.securityContext.runAsUser), '1000', 'the pods run as the image user');
  t.notMatch(df, /COPY \. /, 'no blanket copy');
});
