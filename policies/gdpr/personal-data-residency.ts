import { definePolicy } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';
import { namespace as ns } from '../_shared/examples.js';
import { DATA_CLASS_LABEL, inEu, regionsText } from './eu.js';

const personal = { [DATA_CLASS_LABEL]: 'personal' };

const secret = (namespace: string, labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'customer-db', namespace, ...(labels ? { labels } : {}) },
  stringData: { url: 'postgres://db:5432/customers' },
});
const statefulSet = (namespace: string, templateLabels: Record<string, string>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'customers-db', namespace },
  spec: {
    serviceName: 'customers-db',
    selector: { matchLabels: { app: 'customers-db' } },
    template: { metadata: { labels: { app: 'customers-db', ...templateLabels } }, spec: { containers: [{ name: 'pg', image: 'postgres:16' }] } },
  },
});

export default definePolicy({
  id: 'gdpr.personal-data-residency',
  title: 'Personal data stays on EU clusters',
  description:
    `An object labelled \`${DATA_CLASS_LABEL}: personal\` (on itself or on its pod template), or any object in a ` +
    "namespace so labelled, may exist only on clusters whose `region` label is in `euRegions` (default `[europe]`). " +
    'Judged for Namespaces, Pods and every pod controller, PersistentVolumeClaims, PersistentVolumes, VolumeSnapshots, ' +
    'Secrets and ConfigMaps. A cluster without a `region` label (e.g. `fleetgate lint` without `--cluster-label region=...`) ' +
    'is not judged: nothing is known about where it runs. Fix it by deploying the workload only through the EU overlay, ' +
    'or, if the data is not personal, by correcting the label.',
  area: 'gdpr',
  severity: 'critical',
  action: 'deny',
  scope: 'namespace',
  match: {
    kinds: ['Namespace', 'Pod', 'PersistentVolumeClaim', 'PersistentVolume', 'Secret', 'ConfigMap', 'snapshot.storage.k8s.io/VolumeSnapshot'],
  },
  params: { euRegions: ['europe'] as string[] },
  validate({ object, pod, namespace, cluster, params, report }) {
    const eu = inEu(cluster.labels, params.euRegions);
    if (eu !== false) return;
    const region = cluster.labels.region;
    const where = `this cluster's region "${region}" is not in euRegions ${regionsText(params.euRegions)}`;
    const what = `${object.kind} "${object.metadata?.name ?? ''}"`;
    const fix = 'deploy it only to EU clusters (or correct the label if the data is not personal)';
    if (object.metadata?.labels?.[DATA_CLASS_LABEL] === 'personal') {
      report(`${what} is labelled ${DATA_CLASS_LABEL}: personal but ${where}: ${fix}`, ['metadata', 'labels', DATA_CLASS_LABEL]);
    } else if (pod && pod.metadata.labels?.[DATA_CLASS_LABEL] === 'personal') {
      report(`${what} runs pods labelled ${DATA_CLASS_LABEL}: personal but ${where}: ${fix}`, pod.metadataPath(`labels`).concat(DATA_CLASS_LABEL));
    } else if (object.kind !== 'Namespace' && namespace.labels[DATA_CLASS_LABEL] === 'personal') {
      report(`${what} is in namespace "${namespace.name}", labelled ${DATA_CLASS_LABEL}: personal, but ${where}: ${fix}`, ['metadata', 'namespace']);
    }
  },
  examples: {
    pass: [
      { name: 'personal namespace on an EU cluster', objects: [ns('crm', personal), secret('crm')], clusterLabels: { region: 'europe' } },
      { name: 'non-personal data anywhere', objects: [ns('catalog', { [DATA_CLASS_LABEL]: 'public' }), secret('catalog')], clusterLabels: { region: 'us-east' } },
      { name: 'cluster without region label is not judged', objects: [ns('crm', personal)] },
      {
        name: 'euRegions parameter adds a region',
        objects: [secret('crm', personal)],
        clusterLabels: { region: 'switzerland' },
        params: { euRegions: ['europe', 'switzerland'] },
      },
    ],
    fail: [
      { name: 'personal namespace on a US cluster', objects: [ns('crm', personal)], clusterLabels: { region: 'us-east' } },
      { name: 'object in a personal namespace on an APAC cluster', objects: [ns('crm', personal), secret('crm')], clusterLabels: { region: 'apac' } },
      { name: 'object labelled personal itself', objects: [secret('shop', personal)], clusterLabels: { region: 'us-east' } },
      { name: 'pod template labelled personal', objects: [statefulSet('shop', personal)], clusterLabels: { region: 'apac' } },
    ],
  },
});
