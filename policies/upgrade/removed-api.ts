import { definePolicy } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';
import { REMOVAL_KINDS } from './api-table.js';
import { LAST_APPLIED, apiUses, describeUse, statusAt, targetOf } from './judge.js';

const cronJob = (apiVersion: string, annotations?: Record<string, string>): KubeObject => ({
  apiVersion,
  kind: 'CronJob',
  metadata: { name: 'report', namespace: 'shop', ...(annotations ? { annotations } : {}) },
  spec: { schedule: '@daily', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'r', image: 'shop/report:1' }] } } } } },
});
const ingress = (apiVersion: string): KubeObject => ({ apiVersion, kind: 'Ingress', metadata: { name: 'web', namespace: 'shop' }, spec: {} });
const lastApplied = (apiVersion: string) => ({ [LAST_APPLIED]: JSON.stringify({ apiVersion, kind: 'CronJob', metadata: { name: 'report' } }) });

export default definePolicy({
  id: 'upgrade.removed-api',
  title: 'Objects use no API version removed in the target Kubernetes release',
  description:
    "An object whose apiVersion the cluster's target release no longer serves cannot be applied after the upgrade " +
    '(and a chart or GitOps sync that still writes it breaks the day the cohort upgrades). Judged on the object\'s ' +
    'apiVersion and, for live objects, on the apiVersion kubectl recorded in `kubectl.kubernetes.io/last-applied-' +
    "configuration` (the API server serves stored objects in its current version, hiding what was applied). The " +
    'schedule is the official Deprecated API Migration Guide (1.16 through 1.32; no later release through 1.36 ' +
    'removed a built-in API); the message names the replacement. Set `targetVersion` (a quoted string, e.g. "1.36") per ' +
    'cohort in fleet.yaml; it defaults to "1.32".',
  area: 'upgrade',
  severity: 'high',
  action: 'deny',
  match: { kinds: REMOVAL_KINDS },
  params: { targetVersion: '1.32' },
  validate({ object, params, report }) {
    const uses = apiUses(object);
    if (!uses.length) return;
    const target = targetOf(params.targetVersion);
    for (const use of uses)
      if (statusAt(use.row, target) === 'removed') report(describeUse(use, String(object.kind), 'removed', String(params.targetVersion)), use.path);
  },
  examples: {
    pass: [
      cronJob('batch/v1'),
      { name: 'not removed yet at the target', objects: [cronJob('batch/v1beta1')], params: { targetVersion: '1.24' } },
      { name: 'last applied as the current version', objects: [cronJob('batch/v1', lastApplied('batch/v1'))] },
      ingress('networking.k8s.io/v1'),
    ],
    fail: [
      cronJob('batch/v1beta1'),
      { name: 'live object last applied as a removed version', objects: [cronJob('batch/v1', lastApplied('batch/v1beta1'))] },
      ingress('extensions/v1beta1'),
      { name: 'flowcontrol v1beta3 at 1.36', objects: [{ apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3', kind: 'FlowSchema', metadata: { name: 'fs' }, spec: {} }], params: { targetVersion: '1.36' } },
      { apiVersion: 'policy/v1beta1', kind: 'PodSecurityPolicy', metadata: { name: 'restricted' }, spec: {} },
    ],
  },
});
