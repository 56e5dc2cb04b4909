import { definePolicy } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';
import { REMOVAL_KINDS } from './api-table.js';
import { LAST_APPLIED, apiUses, describeUse, statusAt, targetOf } from './judge.js';

const hpa = (apiVersion: string, annotations?: Record<string, string>): KubeObject => ({
  apiVersion,
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web', namespace: 'shop', ...(annotations ? { annotations } : {}) },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 5 },
});

export default definePolicy({
  id: 'upgrade.deprecated-api',
  title: 'Objects use no API version deprecated at the target Kubernetes release',
  description:
    "An object whose apiVersion is still served at the cluster's target release but removed in a later one, while " +
    'its replacement is already available there: migrate now, before the release that removes it (named in the ' +
    'message with the replacement). Judged like upgrade.removed-api, on the apiVersion and on the one in ' +
    '`kubectl.kubernetes.io/last-applied-configuration`, from the official Deprecated API Migration Guide, for ' +
    '`targetVersion` (quoted, e.g. "1.24"; default "1.32").',
  area: 'upgrade',
  severity: 'medium',
  action: 'warn',
  match: { kinds: REMOVAL_KINDS },
  params: { targetVersion: '1.32' },
  validate({ object, params, report }) {
    const uses = apiUses(object);
    if (!uses.length) return;
    const target = targetOf(params.targetVersion);
    for (const use of uses)
      if (statusAt(use.row, target) === 'deprecated') report(describeUse(use, String(object.kind), 'deprecated', String(params.targetVersion)), use.path);
  },
  examples: {
    pass: [
      hpa('autoscaling/v2'),
      { name: 'already removed: that is upgrade.removed-api', objects: [hpa('autoscaling/v2beta2')], params: { targetVersion: '1.26' } },
      { name: 'replacement not available yet at the target', objects: [hpa('autoscaling/v2beta2')], params: { targetVersion: '1.22' } },
    ],
    fail: [
      { name: 'v2beta2 at 1.24', objects: [hpa('autoscaling/v2beta2')], params: { targetVersion: '1.24' } },
      {
        name: 'last applied as v2beta2',
        objects: [hpa('autoscaling/v2', { [LAST_APPLIED]: JSON.stringify({ apiVersion: 'autoscaling/v2beta2', kind: 'HorizontalPodAutoscaler' }) })],
        params: { targetVersion: '1.25' },
      },
      { name: 'flowcontrol v1beta3 at 1.30', objects: [{ apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3', kind: 'PriorityLevelConfiguration', metadata: { name: 'p' }, spec: {} }], params: { targetVersion: '1.30' } },
    ],
  },
});
