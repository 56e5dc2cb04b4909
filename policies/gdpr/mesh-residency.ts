import { defineFleetPolicy } from '../../src/index.js';
import type { FleetClusterView, KubeObject } from '../../src/index.js';
import { namespace } from '../isolation/namespaces.js';
import { SERVICE_ENTRY, federatedEndpoints, globalServiceEntry, service } from '../mesh/federation.js';
import { DATA_CLASS_LABEL, inEu, regionsText } from './eu.js';

const HOST = 'ledger.payments.svc.cluster.global';
const fra = (extra: KubeObject[] = []) => ({ name: 'fra01', labels: { region: 'europe' }, objects: [namespace('payments', { [DATA_CLASS_LABEL]: 'personal' }), service('ledger', 'payments'), ...extra] });
const sin = (objects: KubeObject[]) => ({ name: 'sin01', labels: { region: 'apac' }, objects: [namespace('payments'), ...objects] });

function personal(c: FleetClusterView, ns: string | undefined): boolean {
  return !!ns && c.inventory.namespaceLabels(ns)?.[DATA_CLASS_LABEL] === 'personal';
}

export default defineFleetPolicy({
  id: 'gdpr.mesh-residency',
  title: 'Personal data does not cross the EU border through the federated mesh',
  description:
    'The fleet-wide counterpart of gdpr.personal-data-residency. A Service in a namespace classified `personal` on an ' +
    'EU cluster must not be imported by a ServiceEntry of a cluster outside the EU regions, and a ServiceEntry in a ' +
    '`personal` namespace of an EU cluster must not send its traffic to endpoints on clusters outside the EU regions. ' +
    'Clusters are EU by their `region` label (parameter euRegions).',
  area: 'gdpr',
  severity: 'critical',
  action: 'deny',
  scope: 'fleet',
  match: { kinds: [SERVICE_ENTRY, 'Service'] },
  reads: { [SERVICE_ENTRY]: ['spec'], Service: [] },
  params: { euRegions: ['europe'] as string[], clusterLabel: 'cluster' },
  validate({ clusters, cluster, params, report, unknown }) {
    const eu = (c: FleetClusterView) => inEu(c.labels, params.euRegions);
    for (const c of clusters) {
      if (c.status !== 'ok') continue;
      for (const ep of federatedEndpoints(c, String(params.clusterLabel))) {
        const target = ep.cluster ? cluster(ep.cluster) : undefined;
        if (!target) continue;
        const path = ['spec', 'endpoints', ep.index];
        const svc = `${ep.service.namespace ?? ''}/${ep.service.name}`;
        // An EU ServiceEntry in a personal namespace sending to a cluster outside the EU.
        if (eu(c) === true && personal(c, ep.serviceEntry.metadata?.namespace) && eu(target) === false) {
          report(c.name, ep.serviceEntry, `ServiceEntry in personal namespace sends "${ep.host}" to ${target.name} (region ${target.labels.region}), outside the EU regions ${regionsText(params.euRegions)}`, path);
          continue;
        }
        // A non-EU ServiceEntry importing an EU cluster's personal Service.
        if (eu(c) === false && eu(target) === true) {
          if (target.status !== 'ok') {
            unknown(target.name, `cannot tell whether ${svc} on ${target.name} is personal data imported by ${c.name}: ${target.status}`);
          } else if (personal(target, ep.service.namespace) && target.inventory.get('Service', ep.service.namespace, ep.service.name)) {
            report(c.name, ep.serviceEntry, `${c.name} (region ${c.labels.region}, outside the EU) imports Service ${svc} of ${target.name}, whose namespace holds personal data`, path);
          }
        }
      }
    }
  },
  examples: {
    pass: [
      { name: 'an EU cluster imports an EU personal service', clusters: [fra(), { name: 'par01', labels: { region: 'europe' }, objects: [globalServiceEntry('ledger', 'payments', HOST, [{ cluster: 'fra01' }])] }] },
      { name: 'a non-EU cluster imports a non-personal service', clusters: [{ ...fra(), objects: [namespace('payments'), service('ledger', 'payments')] }, sin([globalServiceEntry('ledger', 'payments', HOST, [{ cluster: 'fra01' }])])] },
    ],
    fail: [
      { name: 'a non-EU cluster imports an EU personal service', clusters: [fra(), sin([globalServiceEntry('ledger', 'payments', HOST, [{ cluster: 'fra01' }])])] },
      { name: 'an EU personal namespace sends to a non-EU cluster', clusters: [fra([globalServiceEntry('ledger-apac', 'payments', HOST, [{ cluster: 'sin01' }])]), sin([service('ledger', 'payments')])] },
    ],
  },
});
