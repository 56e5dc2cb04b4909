import t from 'tap';
import { runPolicyExamples } from '../../src/loading/testing.js';
import { policies as isolation } from '../../policies/isolation/index.js';
import { policies as quota } from '../../policies/quota/index.js';
import { policies as gdpr } from '../../policies/gdpr/index.js';
import { policies as mesh } from '../../policies/mesh/index.js';
import { policies as fleet } from '../../policies/fleet/index.js';
import { policies as practices } from '../../policies/practices/index.js';
import { policies as upgrade } from '../../policies/upgrade/index.js';

// Every policy of the isolation, quota, gdpr, mesh, practices, upgrade and fleet packs ships pass and fail examples; each one is a case here.
const packs = { isolation, quota, gdpr, mesh, practices, upgrade, fleet };

const EXPECTED: Record<string, string[]> = {
  isolation: ['isolation.namespace-default-deny', 'isolation.no-host-namespaces', 'isolation.rbac-stays-in-namespace'],
  quota: [
    'quota.namespace-has-resourcequota',
    'quota.namespace-has-limitrange',
    'quota.container-resources',
    'quota.within-cluster-maximum',
  ],
  gdpr: ['gdpr.personal-data-residency', 'gdpr.namespace-declares-data-class', 'gdpr.no-egress-outside-eu', 'gdpr.mesh-residency'],
  mesh: [
    'mesh.namespace-sidecar-injection',
    'mesh.peer-authentication-strict',
    'mesh.strict-mtls-mesh-wide',
    'mesh.destination-rule-mutual-tls',
    'mesh.service-entry-locality',
    'mesh.global-endpoints-exist',
  ],
  practices: [
    'practices.image-tag',
    'practices.allowed-registries',
    'practices.required-labels',
    'practices.required-probes',
    'practices.no-nodeport-services',
    'practices.no-loadbalancer-services',
    'practices.no-service-external-ips',
    'practices.no-automount-service-account-token',
    'practices.replica-limits',
    'practices.read-only-root-filesystem',
    'practices.pod-disruption-budget',
  ],
  upgrade: ['upgrade.removed-api', 'upgrade.deprecated-api'],
  fleet: ['fleet.blast-radius', 'fleet.overlay-consistency'],
};

for (const [area, list] of Object.entries(packs)) {
  t.test(`${area} pack`, async (t) => {
    t.same(
      list.map((p) => p.id),
      EXPECTED[area],
      'registers the catalogue ids in catalogue order',
    );
    for (const policy of list) {
      t.test(policy.id, async (t) => {
        t.equal(policy.area, area, 'area matches the pack');
        t.ok(policy.description && policy.description.length > 40, 'has a description');
        t.ok(policy.examples.pass.length >= 2, 'has several pass examples');
        t.ok(policy.examples.fail.length >= 2, 'has several fail examples');
        for (const r of runPolicyExamples(policy)) {
          t.ok(r.ok, `${r.expect}: ${r.name}${r.detail ? ` — ${r.detail}` : ''}`);
          // A fail example's findings must all be real findings (not a policy error) with a message and a path.
          if (r.expect === 'fail')
            for (const f of r.findings) t.ok(!f.error && f.message.length > 10 && f.path.startsWith('$'), `  finding of "${r.name}" is well-formed`);
        }
      });
    }
  });
}
