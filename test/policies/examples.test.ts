import t from 'tap';
import { runPolicyExamples } from '../../src/loading/testing.js';
import { policies as isolation } from '../../policies/isolation/index.js';
import { policies as quota } from '../../policies/quota/index.js';
import { policies as gdpr } from '../../policies/gdpr/index.js';
import { policies as mesh } from '../../policies/mesh/index.js';

// Every policy of the isolation, quota, gdpr and mesh packs ships pass and fail examples; each one is a case here.
const packs = { isolation, quota, gdpr, mesh };

const EXPECTED: Record<string, string[]> = {
  isolation: ['isolation.namespace-default-deny', 'isolation.no-host-namespaces', 'isolation.rbac-stays-in-namespace'],
  quota: [
    'quota.namespace-has-resourcequota',
    'quota.namespace-has-limitrange',
    'quota.container-resources',
    'quota.within-cluster-maximum',
  ],
  gdpr: ['gdpr.personal-data-residency', 'gdpr.namespace-declares-data-class', 'gdpr.no-egress-outside-eu'],
  mesh: [
    'mesh.namespace-sidecar-injection',
    'mesh.peer-authentication-strict',
    'mesh.strict-mtls-mesh-wide',
    'mesh.destination-rule-mutual-tls',
    'mesh.service-entry-locality',
  ],
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
