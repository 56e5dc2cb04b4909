import { join } from 'node:path';
import t from 'tap';
import { inProcessEvaluator, loadPaths, type ClusterContext } from '../../src/index.js';
import { policies as isolation } from '../../policies/isolation/index.js';
import { policies as quota } from '../../policies/quota/index.js';
import { policies as gdpr } from '../../policies/gdpr/index.js';
import { policies as mesh } from '../../policies/mesh/index.js';

// Targeted tests: the four packs over the manifests in test/fixtures/packs/, as `fleetgate lint` would load them
// (positions on), checking exactly which policy fires on which resource, at which path and file:line.

const FIXTURES = 'test/fixtures/packs';
const PACKS = [...isolation, ...quota, ...gdpr, ...mesh];

/** `policy kind ns/name path @line` for every finding of the given policies, sorted. */
async function lint(file: string, ids: string[], cluster: ClusterContext = {}): Promise<string[]> {
  const path = join(FIXTURES, file);
  const { resources, errors } = await loadPaths([path]);
  if (errors.length) throw new Error(`fixture ${file} has errors: ${JSON.stringify(errors)}`);
  const { findings } = inProcessEvaluator(PACKS, cluster).evaluate(resources);
  return findings
    .filter((f) => ids.includes(f.policy))
    .map((f) => {
      if (f.error) throw new Error(`policy error: ${f.message}`);
      if (f.source?.file !== path) throw new Error(`finding without its source file: ${JSON.stringify(f)}`);
      return `${f.policy} ${f.resource.kind} ${f.resource.namespace ?? ''}/${f.resource.name} ${f.path} @${f.source.line}`;
    })
    .sort();
}

t.test('isolation pack on isolation.yaml', async (t) => {
  t.same(
    await lint('isolation.yaml', ['isolation.namespace-default-deny']),
    ['isolation.namespace-default-deny Namespace /team-b $.metadata.name @23'],
    'team-a (deny split over two policies) passes; team-b (policyTypes unset, no egress) lacks Egress; kube-system and the labelled node-agents are exempt',
  );
  t.same(
    await lint('isolation.yaml', ['isolation.no-host-namespaces']),
    ['isolation.no-host-namespaces Deployment team-b/debug $.spec.template.spec.hostIPC @64'],
    'hostIPC in a tenant Deployment template fires; the hostNetwork/hostPID DaemonSet in a fleetgate.io/system namespace does not',
  );
  t.same(
    await lint('isolation.yaml', ['isolation.rbac-stays-in-namespace']),
    [
      'isolation.rbac-stays-in-namespace ClusterRoleBinding /carol-admin $.subjects[1] @91',
      'isolation.rbac-stays-in-namespace RoleBinding team-b/all-service-accounts $.subjects[1].name @83',
    ],
    'group system:serviceaccounts and cluster-admin for a user fire; same-namespace subjects and the kube-system ServiceAccount do not',
  );
});

t.test('isolation.namespace-default-deny message names the missing direction and the fix', async (t) => {
  const { resources } = await loadPaths([join(FIXTURES, 'isolation.yaml')]);
  const { findings } = inProcessEvaluator(isolation).evaluate(resources);
  const f = findings.find((x) => x.policy === 'isolation.namespace-default-deny');
  t.match(f?.message, /"team-b".*Egress.*podSelector: \{\}/, 'says which namespace, which direction and what to add');
  t.equal(f?.action, 'deny');
  t.equal(f?.severity, 'high');
});

t.test('quota pack on quota.yaml (a kind: List plus a document)', async (t) => {
  t.same(
    await lint('quota.yaml', ['quota.namespace-has-resourcequota', 'quota.namespace-has-limitrange']),
    [
      'quota.namespace-has-limitrange Namespace /unbounded $.metadata.name @21',
      'quota.namespace-has-resourcequota Namespace /unbounded $.metadata.name @21',
    ],
    'bounded (quota + LimitRange with max only) passes; a BestEffort-scoped quota does not bound "unbounded"; istio-system is exempt',
  );
  t.same(
    await lint('quota.yaml', ['quota.container-resources']),
    ['quota.container-resources StatefulSet bounded/cache $.spec.template.spec.initContainers[0].resources @44'],
    'the init container without requests fires once, at its resources; the complete main container does not',
  );
  t.same(await lint('quota.yaml', ['quota.within-cluster-maximum'], { labels: { type: 'edge' } }), [], 'requests.cpu 6000m, 12Gi, 40 pods fit the edge maxima');
  t.same(
    await lint('quota.yaml', ['quota.within-cluster-maximum'], {
      labels: { type: 'edge' },
      parameters: { 'quota.within-cluster-maximum': { maxima: { edge: { cpu: '4', memory: '16Gi' } } } },
    }),
    ['quota.within-cluster-maximum ResourceQuota bounded/q $.spec.hard[\'requests.cpu\'] @11'],
    'an overridden edge maximum of 4 cores is exceeded by 6000m',
  );
});

t.test('gdpr rules switch on and off with the cluster region label', async (t) => {
  const ids = gdpr.map((p) => p.id);
  t.same(await lint('gdpr.yaml', ids), [], 'no region label (lint without --cluster-label): nothing is judged');
  t.same(
    await lint('gdpr.yaml', ids, { labels: { region: 'europe' } }),
    [
      'gdpr.namespace-declares-data-class Namespace /catalog $.metadata.labels @17',
      'gdpr.no-egress-outside-eu ServiceEntry catalog/analytics $.spec.endpoints[1].locality @39',
      'gdpr.no-egress-outside-eu ServiceEntry catalog/analytics $.spec.endpoints[2] @40',
    ],
    'region=europe: personal data is fine, the unclassified namespace and the non-EU / locality-less endpoints fire',
  );
  t.same(
    await lint('gdpr.yaml', ids, { labels: { region: 'apac' } }),
    [
      "gdpr.personal-data-residency ConfigMap catalog/newsletter-list $.metadata.labels['fleetgate.io/data-classification'] @24",
      "gdpr.personal-data-residency Namespace /crm $.metadata.labels['fleetgate.io/data-classification'] @6",
      'gdpr.personal-data-residency Secret crm/db $.metadata.namespace @10',
    ],
    'region=apac: the personal namespace, the object in it and the object labelled personal fire; the EU-only rules are off',
  );
  t.same(
    await lint('gdpr.yaml', ['gdpr.personal-data-residency'], { labels: { region: 'apac' }, parameters: { euRegions: ['europe', 'apac'] } }),
    [],
    'the global euRegions parameter reaches every gdpr policy',
  );
});

t.test('mesh pack on mesh.yaml', async (t) => {
  t.same(
    await lint('mesh.yaml', mesh.map((p) => p.id)),
    [
      'mesh.destination-rule-mutual-tls DestinationRule orders/orders $.spec.trafficPolicy.portLevelSettings[0].tls.mode @32',
      'mesh.namespace-sidecar-injection Namespace /reports $.metadata @20',
      'mesh.peer-authentication-strict PeerAuthentication istio-system/default $.spec.mtls.mode @10',
      'mesh.service-entry-locality ServiceEntry orders/inventory-global $.spec.endpoints[1] @56',
      'mesh.strict-mtls-mesh-wide Namespace /istio-system $.metadata.name @4',
    ],
    'PERMISSIVE at the root fires twice (object and mesh-wide rule); SIMPLE on a port of an in-mesh host; external SIMPLE DR, revisioned namespace and the located endpoint pass',
  );
});

t.test('an inventory without istio-system has nothing for strict-mtls-mesh-wide to check', async (t) => {
  t.same(await lint('isolation.yaml', ['mesh.strict-mtls-mesh-wide']), []);
});
