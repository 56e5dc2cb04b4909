import { definePolicy } from '../../src/index.js';
import { namespace as ns } from '../_shared/examples.js';
import { DATA_CLASS_LABEL, inEu } from './eu.js';

const eu = { region: 'europe' };

export default definePolicy({
  id: 'gdpr.namespace-declares-data-class',
  title: 'On EU clusters, every tenant namespace declares its data classification',
  description:
    `On clusters whose \`region\` label is in \`euRegions\` (default \`[europe]\`), every tenant Namespace carries the label ` +
    `\`${DATA_CLASS_LABEL}\` (e.g. \`public\`, \`internal\`, \`personal\`), so residency and egress rules know which ` +
    'namespaces hold personal data. Other clusters, and clusters without a region label, are not judged; system namespaces are exempt.',
  area: 'gdpr',
  severity: 'medium',
  action: 'deny',
  match: { kinds: ['Namespace'] },
  params: { euRegions: ['europe'] as string[] },
  validate({ object, cluster, params, report, isSystemNamespace }) {
    if (inEu(cluster.labels, params.euRegions) !== true) return;
    const name = object.metadata?.name;
    if (isSystemNamespace(name)) return;
    const labels = object.metadata?.labels;
    const value = labels?.[DATA_CLASS_LABEL];
    if (typeof value === 'string' && value.trim() !== '') return;
    report(
      `namespace "${name ?? ''}" on an EU cluster has no ${DATA_CLASS_LABEL} label: add ${DATA_CLASS_LABEL}: personal, internal or public to metadata.labels`,
      value !== undefined ? ['metadata', 'labels', DATA_CLASS_LABEL] : labels ? ['metadata', 'labels'] : ['metadata'],
    );
  },
  examples: {
    pass: [
      { name: 'classified namespace', objects: [ns('crm', { [DATA_CLASS_LABEL]: 'personal' })], clusterLabels: eu },
      { name: 'non-EU cluster is not judged', objects: [ns('shop')], clusterLabels: { region: 'us-east' } },
      { name: 'cluster without region label is not judged', objects: [ns('shop')] },
      { name: 'system namespace is exempt', objects: [ns('istio-system')], clusterLabels: eu },
      { name: 'namespace labelled fleetgate.io/system is exempt', objects: [ns('logging', { 'fleetgate.io/system': 'true' })], clusterLabels: eu },
    ],
    fail: [
      { name: 'unclassified namespace on an EU cluster', objects: [ns('shop', { team: 'web' })], clusterLabels: eu },
      { name: 'namespace without labels', objects: [ns('shop')], clusterLabels: eu },
      { name: 'empty classification', objects: [ns('shop', { [DATA_CLASS_LABEL]: '' })], clusterLabels: eu },
      { name: 'euRegions parameter makes another region EU', objects: [ns('shop')], clusterLabels: { region: 'eu-west' }, params: { euRegions: ['europe', 'eu-west'] } },
    ],
  },
});
