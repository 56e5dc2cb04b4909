import t from 'tap';
import { readLiveCluster, REDACTED } from '../../../scanner/live/index.js';
import { sampleObjects, SCAN_KINDS } from '../../../testkit/api-double.js';
import { canonical, fixture, FAST_RETRY } from '../../helpers/api-fixtures.js';

const SECRET_KIND = { apiVersion: 'v1', kind: 'Secret' };

t.test('lists every kind across several pages, with apiVersion and kind set on every item', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const objects = sampleObjects({ namespaces: 4, podsPerNamespace: 3 });
  const kc = fx.cluster('paged', { objects });

  const small = await readLiveCluster({ kubeconfig: kc, kinds: SCAN_KINDS, pageSize: 2, retry: FAST_RETRY });
  const lists = fx.api.cluster('paged').requests.filter((r) => r.query.limit);
  t.ok(lists.filter((r) => r.query.continue).length >= 10, 'continue tokens were followed');
  t.ok(lists.every((r) => r.query.limit === '2'), 'every list asks for limit=2');
  t.equal(small.stats?.pages, lists.length);

  const big = await readLiveCluster({ kubeconfig: kc, kinds: SCAN_KINDS, pageSize: 500, retry: FAST_RETRY });
  t.equal(canonical(small), canonical(big), 'paging does not change the result');
  t.same(small.warnings, []);

  const expected = objects.filter((o) => SCAN_KINDS.some((k) => k.apiVersion === o.apiVersion && k.kind === o.kind));
  t.equal(small.objects.length, expected.length, 'every object of the requested kinds');
  t.ok(small.objects.every((o) => typeof o.apiVersion === 'string' && typeof o.kind === 'string'));
  const pods = small.objects.filter((o) => o.kind === 'Pod');
  t.equal(pods.length, 12);
  t.ok(pods.every((p) => p.apiVersion === 'v1'));
  t.ok(small.objects.some((o) => o.apiVersion === 'networking.istio.io/v1' && o.kind === 'DestinationRule'));
  t.ok(small.objects.every((o) => typeof o.metadata?.resourceVersion === 'string'), 'objects as the server lists them');
});

t.test('Secret values are redacted, keys kept', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const objects = sampleObjects({ namespaces: 1 });
  objects.push({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'applied', namespace: 'tenant-00', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"stringData":{"k":"plain-value-123"}}' } },
    stringData: { k: 'plain-value-123' },
    data: { k: Buffer.from('plain-value-123').toString('base64') },
  });
  const kc = fx.cluster('s', { objects });
  const r = await readLiveCluster({ kubeconfig: kc, kinds: [SECRET_KIND], retry: FAST_RETRY });
  t.equal(r.objects.length, 2);
  for (const s of r.objects) {
    t.equal(s.kind, 'Secret');
    for (const v of Object.values((s.data ?? {}) as Record<string, string>)) t.equal(v, REDACTED);
  }
  const applied = r.objects.find((o) => o.metadata?.name === 'applied')!;
  t.same(Object.keys(applied.data as object), ['k']);
  t.equal((applied.stringData as Record<string, string>).k, REDACTED);
  t.equal(applied.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], REDACTED);
  const text = JSON.stringify(r);
  t.notMatch(text, 'plain-value-123');
  t.notMatch(text, Buffer.from('plain-value-123').toString('base64'));
  t.notMatch(text, Buffer.from('s3cret-tenant-00').toString('base64'));
});

t.test('a kind the server does not serve is a warning; an old apiVersion is read in the version the server serves', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const kc = fx.cluster('no-istio', { objects: sampleObjects(), exclude: ['networking.istio.io', 'security.istio.io'] });
  const r = await readLiveCluster({
    kubeconfig: kc,
    kinds: [
      { apiVersion: 'v1', kind: 'Namespace' },
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule' },
      { apiVersion: 'apps/v1', kind: 'Frobnicator' },
    ],
    retry: FAST_RETRY,
  });
  t.equal(r.objects.filter((o) => o.kind === 'Namespace').length, 5);
  t.equal(r.objects.length, 5);
  t.match(r.warnings, [/networking\.istio\.io\/v1 DestinationRule: not served by this cluster/, /apps\/v1 Frobnicator: not served by this cluster; skipped/]);

  const kc2 = fx.cluster('old', { objects: sampleObjects(), exclude: ['networking.istio.io/v1'] });
  const old = await readLiveCluster({
    kubeconfig: kc2,
    kinds: [
      { apiVersion: 'networking.istio.io/v1alpha3', kind: 'DestinationRule' },
      { apiVersion: 'apps/v1beta2', kind: 'Deployment' },
    ],
    retry: FAST_RETRY,
  });
  t.equal(old.objects.filter((o) => o.kind === 'DestinationRule').length, 3);
  t.ok(old.objects.filter((o) => o.kind === 'DestinationRule').every((o) => o.apiVersion === 'networking.istio.io/v1beta1'), 'the served version');
  t.ok(old.objects.filter((o) => o.kind === 'Deployment').every((o) => o.apiVersion === 'apps/v1'));
  t.match(old.warnings, [/v1alpha3 DestinationRule: not served by this cluster; read as networking\.istio\.io\/v1beta1 instead/, /apps\/v1beta2 Deployment: .*read as apps\/v1/]);
});

t.test('403 on one kind: a warning naming the kind and the missing verb, the rest is read', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const kc = fx.cluster('rbac', { objects: sampleObjects(), faults: { forbidden: ['deployments.apps', 'secrets'] } });
  const r = await readLiveCluster({ kubeconfig: kc, kinds: [...SCAN_KINDS, SECRET_KIND], retry: FAST_RETRY });
  t.equal(r.objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Secret').length, 0);
  t.equal(r.objects.filter((o) => o.kind === 'Namespace').length, 5);
  t.equal(r.warnings.length, 2);
  t.match(r.warnings[0], /^apps\/v1 Deployment: forbidden .*RBAC verb "list" on deployments\.apps/);
  t.match(r.warnings[1], /^v1 Secret: forbidden .*RBAC verb "list" on secrets/);
});

t.test('404 on a list (the CRD went away after discovery) is a warning', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const kc = fx.cluster('gone-crd', { objects: sampleObjects(), faults: { notFound: ['destinationrules.networking.istio.io'] } });
  const r = await readLiveCluster({ kubeconfig: kc, kinds: SCAN_KINDS, retry: FAST_RETRY });
  t.equal(r.objects.filter((o) => o.kind === 'DestinationRule').length, 0);
  t.equal(r.objects.filter((o) => o.kind === 'PeerAuthentication').length, 1);
  t.match(r.warnings, [/^networking\.istio\.io\/v1 DestinationRule: the server no longer serves destinationrules \(404 on list\); skipped/]);
});

t.test('the reader only GETs discovery and lists (the RBAC it needs: get on discovery URLs, list on resources)', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const kc = fx.cluster('verbs', { objects: sampleObjects() });
  await readLiveCluster({ kubeconfig: kc, kinds: [...SCAN_KINDS, SECRET_KIND, { apiVersion: 'apps/v1', kind: 'Deployment' }], pageSize: 3, retry: FAST_RETRY });
  const reqs = fx.api.cluster('verbs').requests;
  t.ok(reqs.length > 10);
  t.ok(reqs.every((r) => r.method === 'GET'), 'GET only');
  const discovery = reqs.filter((r) => !r.query.limit).map((r) => r.path);
  t.same([...discovery].sort(), ['/api', '/api/v1', '/apis', '/apis/apps/v1', '/apis/networking.istio.io/v1', '/apis/networking.k8s.io/v1', '/apis/security.istio.io/v1'], 'each discovery document once (cached)');
  const lists = [...new Set(reqs.filter((r) => r.query.limit).map((r) => r.path))].sort();
  t.same(lists, [
    '/api/v1/limitranges',
    '/api/v1/namespaces',
    '/api/v1/pods',
    '/api/v1/resourcequotas',
    '/api/v1/secrets',
    '/apis/apps/v1/deployments',
    '/apis/networking.istio.io/v1/destinationrules',
    '/apis/networking.k8s.io/v1/networkpolicies',
    '/apis/security.istio.io/v1/peerauthentications',
  ]);
  // lists are cluster-wide collection reads (verb "list"): no object name, no namespace, no watch
  t.ok(reqs.every((r) => !r.query.watch && !r.query.fieldSelector));
  t.ok(reqs.filter((r) => r.query.limit).every((r) => Object.keys(r.query).every((k) => k === 'limit' || k === 'continue')));
});
