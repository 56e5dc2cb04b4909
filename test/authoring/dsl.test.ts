import t from 'tap';
import { Engine, definePolicy, defineClusterPolicy, PolicyDefinitionError, type KubeObject } from '../../src/index.js';

const base = {
  title: 't',
  area: 'test',
  severity: 'medium' as const,
  action: 'deny' as const,
  examples: { pass: [{}], fail: [{}] },
};

/** A Pod policy that reports every container without an image tag, to observe autogen paths. */
const imageTag = definePolicy({
  ...base,
  id: 'test.image-tag',
  match: { kinds: ['Pod'] },
  validate({ pod, report }) {
    for (const c of pod.containers()) if (!String(c.spec.image ?? '').includes(':')) report(`container "${c.name}" has no tag`, c.path('image'));
  },
});

const containers = [{ name: 'app', image: 'nginx' }];
const templated: [string, string, KubeObject, string][] = [
  ['Pod', 'v1', { spec: { containers } }, '$.spec.containers[0].image'],
  ['Deployment', 'apps/v1', { spec: { template: { spec: { containers } } } }, '$.spec.template.spec.containers[0].image'],
  ['StatefulSet', 'apps/v1', { spec: { template: { spec: { containers } } } }, '$.spec.template.spec.containers[0].image'],
  ['DaemonSet', 'apps/v1', { spec: { template: { spec: { containers } } } }, '$.spec.template.spec.containers[0].image'],
  ['ReplicaSet', 'apps/v1', { spec: { template: { spec: { containers } } } }, '$.spec.template.spec.containers[0].image'],
  ['ReplicationController', 'v1', { spec: { template: { spec: { containers } } } }, '$.spec.template.spec.containers[0].image'],
  ['Job', 'batch/v1', { spec: { template: { spec: { containers } } } }, '$.spec.template.spec.containers[0].image'],
  ['CronJob', 'batch/v1', { spec: { jobTemplate: { spec: { template: { spec: { containers } } } } } }, '$.spec.jobTemplate.spec.template.spec.containers[0].image'],
];

t.test('autogen: a Pod rule judges every pod controller, with paths into the template', async (t) => {
  const engine = new Engine([imageTag]).bind();
  for (const [kind, apiVersion, body, path] of templated) {
    const { findings } = engine.evaluate([{ object: { apiVersion, kind, metadata: { name: 'x', namespace: 'ns' }, ...body } }]);
    t.equal(findings.length, 1, `${kind} judged`);
    t.equal(findings[0]?.path, path, `${kind} path`);
    t.same(findings[0]?.resource, { apiVersion, kind, name: 'x', namespace: 'ns' });
  }
  const { findings } = engine.evaluate([{ object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } } }]);
  t.equal(findings.length, 0, 'other kinds are not judged');
});

t.test('init and ephemeral containers are containers too', async (t) => {
  const { findings } = new Engine([imageTag]).bind().evaluate([
    {
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p' },
        spec: { containers: [{ name: 'a', image: 'a:1' }], initContainers: [{ name: 'i', image: 'busybox' }], ephemeralContainers: [{ name: 'e', image: 'debug' }] },
      },
    },
  ]);
  t.same(findings.map((f) => f.path), ['$.spec.initContainers[0].image', '$.spec.ephemeralContainers[0].image']);
});

t.test('match and exclude: kinds with groups, namespaces, labels, cluster labels, operations', async (t) => {
  const seen: string[] = [];
  const p = definePolicy({
    ...base,
    id: 'test.match',
    match: {
      kinds: ['networking.istio.io/DestinationRule', 'ConfigMap'],
      namespaces: ['team-*', 'shop'],
      labels: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['dev'] }] },
      clusterLabels: { region: ['europe', 'apac'] },
    },
    exclude: { namespaces: ['team-legacy'], labels: { matchLabels: { skip: 'yes' } } },
    validate({ object, report }) {
      seen.push(`${object.kind}/${object.metadata?.name}`);
      report('seen');
    },
  });
  const objs: KubeObject[] = [
    { apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule', metadata: { name: 'dr', namespace: 'team-a' } },
    { apiVersion: 'example.com/v1', kind: 'DestinationRule', metadata: { name: 'wrong-group', namespace: 'team-a' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'shop' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other-ns', namespace: 'default' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'legacy', namespace: 'team-legacy' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dev', namespace: 'shop', labels: { tier: 'dev' } } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'skipped', namespace: 'shop', labels: { skip: 'yes' } } },
  ];
  const resources = objs.map((object) => ({ object }));
  new Engine([p]).bind({ labels: { region: 'europe' } }).evaluate(resources);
  t.same(seen, ['DestinationRule/dr', 'ConfigMap/cm']);
  seen.length = 0;
  const r = new Engine([p]).bind({ labels: { region: 'us' } }).evaluate(resources);
  t.same(seen, [], 'cluster labels switch the policy off');
  t.equal(r.findings.length, 0);
  seen.length = 0;
  new Engine([p]).bind({ labels: { region: 'apac' } }).evaluate(resources, { operation: 'DELETE' });
  t.same(seen, [], 'DELETE is not judged unless a policy asks for it');
});

t.test('parameters: defaults, global overrides, per-policy overrides', async (t) => {
  let got: unknown;
  const p = definePolicy({
    ...base,
    id: 'test.params',
    params: { limit: 3, systemNamespaces: ['kube-system'] },
    match: { kinds: ['ConfigMap'] },
    validate({ params }) {
      got = params;
    },
  });
  const obj = [{ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } } }];
  new Engine([p]).bind().evaluate(obj);
  t.same(got, { limit: 3, systemNamespaces: ['kube-system'] });
  new Engine([p]).bind({ parameters: { limit: 5 } }).evaluate(obj);
  t.same(got, { limit: 5, systemNamespaces: ['kube-system'] });
  new Engine([p]).bind({ parameters: { limit: 5, 'test.params': { limit: 7 }, 'other.policy': { limit: 9 } } }).evaluate(obj);
  t.same(got, { limit: 7, systemNamespaces: ['kube-system'] });
});

t.test('actions: default, override by id and by glob, the most specific wins', async (t) => {
  const p = definePolicy({ ...base, id: 'pss.restricted.x', match: { kinds: ['ConfigMap'] }, validate: ({ report }) => report('x') });
  const obj = [{ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } } }];
  const action = (actions?: Record<string, 'deny' | 'warn' | 'audit'>) => new Engine([p]).bind({ actions }).evaluate(obj).findings[0].action;
  t.equal(action(), 'deny');
  t.equal(action({ 'pss.*': 'audit' }), 'audit');
  t.equal(action({ 'pss.*': 'audit', 'pss.restricted.*': 'warn' }), 'warn');
  t.equal(action({ 'pss.restricted.*': 'warn', 'pss.restricted.x': 'audit' }), 'audit');
});

t.test('a per-finding action yields to an explicit override', async (t) => {
  const p = definePolicy({ ...base, id: 'test.per-finding', match: { kinds: ['ConfigMap'] }, validate: ({ report }) => report('x', [], { action: 'warn' }) });
  const obj = [{ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } } }];
  t.equal(new Engine([p]).bind().evaluate(obj).findings[0].action, 'warn');
  t.equal(new Engine([p]).bind({ actions: { 'test.*': 'audit' } }).evaluate(obj).findings[0].action, 'audit');
});

t.test('namespace context: labels from the inventory or the namespace lookup; system namespaces', async (t) => {
  const seen: unknown[] = [];
  const p = definePolicy({
    ...base,
    id: 'test.ns',
    scope: 'namespace',
    match: { kinds: ['ConfigMap'], namespaceSelector: { matchLabels: { team: 'a' } } },
    validate({ namespace, isSystemNamespace }) {
      seen.push([namespace.name, namespace.known, isSystemNamespace(namespace.name)]);
    },
  });
  const cm = (ns: string) => ({ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: ns } } });
  new Engine([p]).bind().evaluate([
    { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a1', labels: { team: 'a' } } } },
    { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sys', labels: { team: 'a', 'fleetgate.io/system': 'true' } } } },
    cm('a1'),
    cm('sys'),
    cm('unknown'),
  ]);
  t.same(seen, [
    ['a1', true, false],
    ['sys', true, true],
  ]);
  seen.length = 0;
  new Engine([p]).bind().evaluateObject(cm('b').object, { namespaceLabels: (n) => (n === 'b' ? { team: 'a' } : undefined) });
  t.same(seen, [['b', true, false]], 'the admission namespace cache supplies labels');
});

t.test('cluster scope: sees the inventory and reports on its objects with their sources', async (t) => {
  const p = defineClusterPolicy({
    ...base,
    id: 'test.cluster',
    scope: 'cluster',
    match: { kinds: ['Namespace'] },
    validate({ inventory, report, isSystemNamespace }) {
      for (const ns of inventory.namespaces()) {
        if (isSystemNamespace(ns.metadata?.name)) continue;
        if (!inventory.ofKind('ResourceQuota', ns.metadata?.name).length) report(ns, 'no quota', 'metadata.name');
      }
    },
  });
  const { findings } = new Engine([p]).bind().evaluate([
    { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } }, locate: (path) => ({ file: 'ns.yaml', line: 3, column: path.length }) },
    { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'b' } } },
    { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } } },
    { object: { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'b' } } },
  ]);
  t.same(findings.map((f) => [f.resource.name, f.path, f.source]), [['a', '$.metadata.name', { file: 'ns.yaml', line: 3, column: 2 }]]);
  const scoped = new Engine([p]).bind().evaluate([{ object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } } }], { scopes: ['object'] });
  t.equal(scoped.findings.length, 0, 'admission runs no cluster-scope policy');
});

t.test('query: jsonpath-plus with script evaluation off, paths as segments', async (t) => {
  let matches: unknown;
  const p = definePolicy({
    ...base,
    id: 'test.query',
    match: { kinds: ['Pod'] },
    validate({ query }) {
      matches = query('$.spec.containers[*].ports[?(@.hostPort)]');
    },
  });
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }, { hostPort: 80 }] }] } };
  const { findings } = new Engine([p]).bind().evaluate([{ object: pod }]);
  t.equal(findings.length, 1, 'a script filter is refused, and the refusal is an error finding');
  t.match(findings[0].message, /policy error/);
  const q = definePolicy({
    ...base,
    id: 'test.query2',
    match: { kinds: ['Pod'] },
    validate({ query }) {
      matches = query('$.spec.containers[*].ports[*].hostPort');
    },
  });
  new Engine([q]).bind().evaluate([{ object: pod }]);
  t.same(matches, [{ value: 80, path: ['spec', 'containers', 0, 'ports', 1, 'hostPort'] }]);
});

t.test('exceptions: waive until they expire, then are reported themselves', async (t) => {
  const p = definePolicy({ ...base, id: 'test.waivable', match: { kinds: ['ConfigMap'] }, validate: ({ report }) => report('bad') });
  const exception = (expires: string) => ({
    object: {
      apiVersion: 'fleetgate.io/v1alpha1',
      kind: 'PolicyException',
      metadata: { name: 'legacy' },
      spec: { policies: ['test.*'], resources: [{ kind: 'ConfigMap', namespace: 'legacy', name: '*' }], expires, reason: 'migrating in Q1' },
    },
  });
  const cms = [
    { object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'legacy' } } },
    { object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'shop' } } },
  ];
  const now = new Date('2026-11-24T12:00:00Z');
  const live = new Engine([p]).bind().evaluate([exception('2026-11-24'), ...cms], { now });
  t.same(live.findings.map((f) => f.resource.name), ['b'], 'the last day still waives');
  t.equal(live.waived, 1);
  t.equal(live.objects, 2, 'the exception itself is not judged');
  const expired = new Engine([p]).bind().evaluate([exception('2026-11-23'), ...cms], { now });
  t.same(expired.findings.map((f) => f.policy).sort(), ['fleetgate.exception-expired', 'test.waivable', 'test.waivable']);
  const bad = new Engine([p]).bind().evaluate([{ object: { apiVersion: 'fleetgate.io/v1alpha1', kind: 'PolicyException', metadata: { name: 'x' }, spec: { policies: ['a.b'] } } }], { now });
  t.match(bad.findings[0], { policy: 'fleetgate.exception-invalid', message: /resources/ });
});

t.test('definePolicy rejects malformed policies where they are written', async (t) => {
  const ok = { ...base, id: 'a.b', match: { kinds: ['Pod'] }, validate() {} };
  t.throws(() => definePolicy({ ...ok, id: 'NoDots' }), PolicyDefinitionError);
  t.throws(() => definePolicy({ ...ok, severity: 'huge' as never }), /severity/);
  t.throws(() => definePolicy({ ...ok, action: 'block' as never }), /action/);
  t.throws(() => definePolicy({ ...ok, match: { kinds: [] } }), /kinds/);
  t.throws(() => definePolicy({ ...ok, examples: { pass: [], fail: [{}] } }), /examples/);
  t.throws(() => new Engine([definePolicy(ok), definePolicy(ok)]), /defined twice/);
});
