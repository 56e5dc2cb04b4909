import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { inProcessEvaluator, POLICY_ID, loadPaths, type ClusterContext, type Finding, type KubeObject } from '../../src/index.js';
import { runPolicyExamples } from '../../src/loading/testing.js';
import { builtinPolicies } from '../../policies/index.js';
import { actionFor, modesFor, policies as pss, PSS_DEFAULTS } from '../../policies/pod-security/index.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'pss');
const NOW = new Date('2026-03-01T00:00:00Z');

function run(objects: KubeObject[], cluster: ClusterContext = {}): Finding[] {
  return inProcessEvaluator(pss, cluster).evaluate(objects.map((object) => ({ object })), { now: NOW }).findings;
}

const ns = (name: string, labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

function pod(namespace: string, spec: Record<string, unknown>, container: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace },
    spec: { containers: [{ name: 'app', image: 'app:1', ...container }], ...spec },
  };
}

const RESTRICTED_OK = {
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
};
const restrictedSpec = (extra: Record<string, unknown> = {}) => ({
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  ...extra,
});

const summary = (fs: Finding[]) => fs.map((f) => `${f.policy}=${f.action}`).sort();
const ids = (fs: Finding[]) => [...new Set(fs.map((f) => f.policy))].sort();

t.test('the pack: one policy per upstream check, registered among the built-ins', async (t) => {
  t.same(
    pss.map((p) => p.id),
    [
      'pss.baseline.host-namespaces',
      'pss.baseline.privileged',
      'pss.baseline.capabilities',
      'pss.baseline.host-path-volumes',
      'pss.baseline.host-ports',
      'pss.baseline.host-probes-and-host-lifecycle',
      'pss.baseline.apparmor-profile',
      'pss.baseline.selinux-options',
      'pss.baseline.proc-mount',
      'pss.baseline.seccomp-profile',
      'pss.baseline.sysctls',
      'pss.baseline.windows-host-process',
      'pss.restricted.restricted-volumes',
      'pss.restricted.allow-privilege-escalation',
      'pss.restricted.capabilities',
      'pss.restricted.proc-mount',
      'pss.restricted.seccomp-profile',
      'pss.restricted.run-as-non-root',
      'pss.restricted.run-as-user',
    ],
  );
  for (const p of pss) {
    t.match(p.id, POLICY_ID);
    t.equal(p.scope, 'namespace', `${p.id} reads namespace labels`);
    t.equal(p.action, p.id.startsWith('pss.baseline.') ? 'deny' : 'warn', `${p.id} default action`);
    t.ok(builtinPolicies.includes(p), `${p.id} is a built-in`);
  }
});

t.test('every policy passes its own examples', async (t) => {
  for (const p of pss) {
    for (const r of runPolicyExamples(p)) t.ok(r.ok, `${p.id} ${r.name}`, { detail: r.detail });
  }
});

t.test('level per mode: label, else cluster default; unknown values count as restricted', async (t) => {
  t.same(modesFor({}, PSS_DEFAULTS), { enforce: 'baseline', warn: 'restricted', audit: 'privileged' });
  t.same(modesFor({ 'pod-security.kubernetes.io/enforce': 'restricted' }, PSS_DEFAULTS), {
    enforce: 'restricted',
    warn: 'restricted',
    audit: 'privileged',
  });
  t.same(modesFor({ 'pod-security.kubernetes.io/warn': 'bogus' }, PSS_DEFAULTS).warn, 'restricted');
  const modes = { enforce: 'baseline', warn: 'restricted', audit: 'privileged' } as const;
  t.equal(actionFor(modes, 'baseline'), 'deny');
  t.equal(actionFor(modes, 'restricted'), 'warn');
  t.equal(actionFor({ enforce: 'privileged', warn: 'privileged', audit: 'restricted' }, 'restricted'), 'audit');
  t.equal(actionFor({ enforce: 'privileged', warn: 'privileged', audit: 'privileged' }, 'baseline'), undefined);
  t.equal(actionFor({ enforce: 'restricted', warn: 'privileged', audit: 'privileged' }, 'baseline', true), undefined, 'overridden at restricted');
  t.equal(actionFor({ enforce: 'restricted', warn: 'baseline', audit: 'privileged' }, 'baseline', true), 'warn');
});

t.test('own fixtures: the namespace labels decide each finding’s action', async (t) => {
  const loaded = await loadPaths([fixtures]);
  t.same(loaded.errors, []);
  const findings = inProcessEvaluator(pss).evaluate(loaded.resources, { now: NOW }).findings;
  const of = (kind: string, namespace: string) => findings.filter((f) => f.resource.kind === kind && f.resource.namespace === namespace);

  // enforce=restricted: restricted findings deny, with paths into the template and file positions.
  const web = of('Deployment', 'tenant-restricted');
  t.same(ids(web), [
    'pss.restricted.allow-privilege-escalation',
    'pss.restricted.capabilities',
    'pss.restricted.run-as-non-root',
    'pss.restricted.seccomp-profile',
  ]);
  t.ok(web.every((f) => f.action === 'deny'));
  const ape = web.find((f) => f.policy === 'pss.restricted.allow-privilege-escalation')!;
  t.equal(ape.path, '$.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation');
  t.equal(ape.message, 'allowPrivilegeEscalation != false (container "web" must set securityContext.allowPrivilegeEscalation=false)');
  // the field is missing: the finding points at the container that should set it
  t.match(ape.source, { file: /workloads\.yaml$/, line: 15 });

  // enforce=privileged, warn=privileged, audit=baseline: host namespaces audited, restricted not reported.
  t.same(summary(of('DaemonSet', 'node-agents')), ['pss.baseline.host-namespaces=audit', 'pss.baseline.host-namespaces=audit']);
  t.same(of('DaemonSet', 'node-agents').map((f) => f.message).sort(), ['host namespaces (hostNetwork=true)', 'host namespaces (hostPID=true)']);

  // privileged everywhere: nothing.
  t.same(of('CronJob', 'legacy'), []);

  // no Namespace object known: cluster defaults (baseline enforced, restricted warned).
  const unlabelled = of('CronJob', 'unlabelled');
  t.same(unlabelled.filter((f) => f.policy === 'pss.baseline.privileged').map((f) => [f.action, f.path, f.message]), [
    [
      'deny',
      '$.spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged',
      'privileged (container "cleanup" must not set securityContext.privileged=true)',
    ],
  ]);
  t.ok(unlabelled.filter((f) => f.policy.startsWith('pss.restricted.')).every((f) => f.action === 'warn'));
  t.ok(unlabelled.some((f) => f.policy.startsWith('pss.restricted.')));
});

t.test('explicit action overrides win over the namespace label', async (t) => {
  const objects = [ns('a', { 'pod-security.kubernetes.io/enforce': 'baseline' }), pod('a', { hostIPC: true })];
  const f = run(objects, { actions: { 'pss.restricted.*': 'deny', 'pss.baseline.host-namespaces': 'audit' } });
  t.same(ids(f.filter((x) => x.action !== 'deny')), ['pss.baseline.host-namespaces']);
  t.ok(f.filter((x) => x.policy.startsWith('pss.restricted.')).every((x) => x.action === 'deny'));
});

t.test('cluster defaults are parameters of the whole pack', async (t) => {
  const p = pod('x', restrictedSpec(), { securityContext: { capabilities: { drop: ['ALL'] } } });
  t.same(summary(run([p])), ['pss.restricted.allow-privilege-escalation=warn']);
  t.same(summary(run([p], { parameters: { defaultEnforce: 'restricted' } })), ['pss.restricted.allow-privilege-escalation=deny']);
  t.same(run([p], { parameters: { defaultWarn: 'baseline' } }), [], 'restricted no longer warned by default');
  t.same(summary(run([p], { parameters: { 'pss.*': { defaultWarn: 'privileged', defaultAudit: 'restricted' } } })), [
    'pss.restricted.allow-privilege-escalation=audit',
  ]);
});

t.test('exemptions as upstream configures them: namespaces and runtime classes', async (t) => {
  const bad = pod('kube-system', { hostNetwork: true, runtimeClassName: 'kata' });
  // Issue #19: the system namespaces are exempt by default (exemptSystemNamespaces); with that off, as upstream
  // PSA's empty default, no namespace is exempt by name and exemptNamespaces / exemptRuntimeClasses decide.
  t.same(run([bad]), [], 'kube-system is a system namespace: exempt by default');
  const asUpstream = { exemptSystemNamespaces: false };
  t.ok(run([bad], { parameters: asUpstream }).length > 0, 'no namespace is exempt by name by default');
  t.same(run([bad], { parameters: { ...asUpstream, exemptNamespaces: ['kube-system'] } }), []);
  t.same(run([bad], { parameters: { ...asUpstream, exemptRuntimeClasses: ['kata'] } }), []);
  t.ok(run([pod('monitoring', { hostNetwork: true })]).length > 0, 'a tenant namespace is judged');
});

t.test('exempt objects are counted, not reported (issue #19)', async (t) => {
  const evaluate = (objects: KubeObject[], cluster: ClusterContext = {}) =>
    inProcessEvaluator(pss, cluster).evaluate(objects.map((object) => ({ object })), { now: NOW });
  const bad = pod('kube-system', { hostNetwork: true, runtimeClassName: 'kata' });
  const other = { ...pod('kube-system', { hostPID: true }), metadata: { name: 'q', namespace: 'kube-system' } };
  const system = evaluate([bad, other]);
  t.same(system.findings, []);
  t.equal(system.exempt, 2, 'each exempt pod counts once, however many checks it fails');
  const byClass = evaluate([bad, pod('monitoring', { hostNetwork: true })], { parameters: { exemptSystemNamespaces: false, exemptRuntimeClasses: ['kata'] } });
  t.equal(byClass.exempt, 1, 'the runtime-class exemption counts the kata pod');
  t.ok(byClass.findings.every((f) => f.resource.namespace === 'monitoring'), 'the tenant pod is still reported');
  t.equal(evaluate([pod('monitoring', { hostNetwork: true })]).exempt, 0, 'a judged pod is not exempt');
  t.equal(evaluate([pod('kube-system', restrictedSpec(), RESTRICTED_OK)]).exempt, 0, 'a compliant pod in an exempt namespace is not counted (it has nothing to drop)');
});

t.test('a PolicyException waives pss findings', async (t) => {
  const exception: KubeObject = {
    apiVersion: 'fleetgate.io/v1alpha1',
    kind: 'PolicyException',
    metadata: { name: 'agent' },
    spec: {
      policies: ['pss.baseline.host-namespaces', 'pss.restricted.*'],
      resources: [{ kind: 'Pod', namespace: 'monitoring', name: 'p' }],
      expires: '2026-12-31',
      reason: 'node agent reads host metrics',
    },
  };
  const { findings, waived } = inProcessEvaluator(pss).evaluate(
    [{ object: exception }, { object: pod('monitoring', { hostNetwork: true }) }],
    { now: NOW },
  );
  t.same(findings, []);
  t.ok(waived > 0);
});

t.test('Windows pods: restricted exemptions, and upstream’s override of baseline capabilities/seccomp', async (t) => {
  const win = (extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}) =>
    pod('w', { os: { name: 'windows' }, securityContext: { runAsNonRoot: true }, ...extra }, container);
  t.same(run([win()]), [], 'no seccomp, capabilities or allowPrivilegeEscalation needed');
  const addAdmin = win({}, { securityContext: { capabilities: { add: ['SYS_ADMIN'] } } });
  t.same(summary(run([ns('w', { 'pod-security.kubernetes.io/enforce': 'baseline' }), addAdmin])), [
    'pss.baseline.capabilities=deny',
  ]);
  t.same(
    run([ns('w', { 'pod-security.kubernetes.io/enforce': 'restricted' }), addAdmin]),
    [],
    'at restricted, capabilities_restricted replaces capabilities_baseline and exempts Windows',
  );
  const linux = pod('w', restrictedSpec(), { securityContext: { ...RESTRICTED_OK.securityContext, capabilities: { drop: ['ALL'], add: ['SYS_ADMIN'] } } });
  t.same(summary(run([ns('w', { 'pod-security.kubernetes.io/enforce': 'restricted' }), linux])), [
    'pss.baseline.capabilities=deny',
    'pss.restricted.capabilities=deny',
  ]);
});

t.test('ephemeral and init containers are judged, with their own paths', async (t) => {
  const p = pod('e', restrictedSpec({ initContainers: [{ name: 'init', image: 'i:1', ...RESTRICTED_OK, securityContext: { ...RESTRICTED_OK.securityContext, runAsUser: 0 } }], ephemeralContainers: [{ name: 'debug', image: 'busybox', securityContext: { privileged: true } }] }), RESTRICTED_OK);
  const f = run([p]);
  t.same(
    f.filter((x) => x.policy === 'pss.baseline.privileged' || x.policy === 'pss.restricted.run-as-user').map((x) => [x.policy, x.path]).sort(),
    [
      ['pss.baseline.privileged', '$.spec.ephemeralContainers[0].securityContext.privileged'],
      ['pss.restricted.run-as-user', '$.spec.initContainers[0].securityContext.runAsUser'],
    ],
  );
});

t.test('enforceOnTemplates: false warns on templates as upstream does, pods still denied', async (t) => {
  const spec = { hostPID: true, containers: [{ name: 'a', image: 'a:1' }] };
  const deploy: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'n' }, spec: { template: { spec } } };
  const cluster = { parameters: { enforceOnTemplates: false } };
  const hostPid = (fs: Finding[]) => fs.filter((f) => f.policy === 'pss.baseline.host-namespaces').map((f) => `${f.resource.kind}=${f.action}`);
  t.same(hostPid(run([deploy, pod('n', { hostPID: true })], cluster)).sort(), ['Deployment=warn', 'Pod=deny']);
  t.same(hostPid(run([deploy])), ['Deployment=deny'], 'default: templates are denied like pods');
});

t.test('messages name the container and the field, in upstream’s words', async (t) => {
  const p = pod(
    'm',
    { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }], seLinuxOptions: { role: 'sysadm_r' } }, volumes: [{ name: 'data', nfs: { server: 's', path: '/' } }] },
    {
      ports: [{ containerPort: 80, hostPort: 80 }],
      livenessProbe: { httpGet: { host: '10.1.2.3', port: 80 } },
      securityContext: { capabilities: { add: ['NET_RAW'] }, procMount: 'Unmasked' },
    },
  );
  const messages = run([p]).map((f) => `${f.policy}: ${f.message}`);
  for (const m of [
    'pss.baseline.sysctls: forbidden sysctls (kernel.msgmax)',
    'pss.baseline.selinux-options: seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: role "sysadm_r")',
    'pss.restricted.restricted-volumes: restricted volume types (volume "data" uses restricted volume type "nfs")',
    'pss.baseline.host-ports: hostPort (container "app" uses hostPort 80)',
    'pss.baseline.host-probes-and-host-lifecycle: probe or lifecycle host (container "app" uses livenessProbe.httpGet.host "10.1.2.3")',
    'pss.baseline.capabilities: non-default capabilities (container "app" must not include "NET_RAW" in securityContext.capabilities.add)',
    'pss.baseline.proc-mount: procMount (container "app" must not set securityContext.procMount to "Unmasked")',
    'pss.restricted.capabilities: unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"])',
  ])
    t.ok(messages.includes(m), m, { messages });
});

t.test('malformed pod specs do not throw', async (t) => {
  const weird: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'w', namespace: 'n', annotations: { 'container.apparmor.security.beta.kubernetes.io/a': 'unconfined' } },
    spec: {
      securityContext: null,
      volumes: [null, { name: 'v' }],
      containers: [{ name: 'a', securityContext: { capabilities: { add: 'SYS_ADMIN', drop: null } }, ports: [null, { hostPort: 1 }] }, 'oops'],
    },
  };
  const f = run([weird]);
  t.same(f.filter((x) => x.error), []);
  t.ok(f.some((x) => x.policy === 'pss.baseline.host-ports'));
  t.ok(f.some((x) => x.policy === 'pss.baseline.apparmor-profile'));
});
