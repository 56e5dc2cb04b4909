import { defineFleetPolicy } from '../../src/index.js';
import { namespace } from '../isolation/namespaces.js';
import { SERVICE_ENTRY, federatedEndpoints, globalServiceEntry, service } from './federation.js';

const HOST = 'payment-service.shop.svc.cluster.global';
const par = (objects = [namespace('shop'), globalServiceEntry('payment', 'shop', HOST, [{ cluster: 'fra01', locality: 'eu-central-1/fra01' }])]) => ({ name: 'par01', labels: { region: 'europe' }, objects });

export default defineFleetPolicy({
  id: 'mesh.global-endpoints-exist',
  title: 'Every federated endpoint points to a cluster of the fleet that runs the Service',
  description:
    'An endpoint of a `*.global` ServiceEntry that names a cluster (its `labels.cluster`, else the last segment of its ' +
    '`locality`) routes mesh traffic there. The cluster must be in the fleet and run the Service the host names (its ' +
    'first label, in the ServiceEntry\'s namespace), or requests fail over to nothing. A cluster that could not be ' +
    'read is listed as unknown, never as a pass.',
  area: 'mesh',
  severity: 'high',
  action: 'warn',
  scope: 'fleet',
  match: { kinds: [SERVICE_ENTRY, 'Service'] },
  // Services only by identity: the index keeps the ServiceEntries' spec and nothing else of them.
  reads: { [SERVICE_ENTRY]: ['spec'], Service: [] },
  params: { clusterLabel: 'cluster' },
  validate({ clusters, cluster, params, report, unknown }) {
    for (const c of clusters) {
      if (c.status !== 'ok') continue;
      for (const ep of federatedEndpoints(c, String(params.clusterLabel))) {
        if (!ep.cluster) continue; // no cluster named: mesh.service-entry-locality asks for a locality
        const target = cluster(ep.cluster);
        const path = ['spec', 'endpoints', ep.index];
        const svc = `${ep.service.namespace ? `${ep.service.namespace}/` : ''}${ep.service.name}`;
        if (!target) {
          report(c.name, ep.serviceEntry, `endpoint "${ep.address}" of "${ep.host}" names cluster "${ep.cluster}", which is not in the fleet`, path);
        } else if (target.status !== 'ok') {
          unknown(target.name, `cannot tell whether ${target.name} runs Service ${svc} for ${c.name}'s ServiceEntry ${ep.serviceEntry.metadata?.name}: ${target.status}${target.error ? ` (${target.error})` : ''}`);
        } else if (!target.inventory.get('Service', ep.service.namespace, ep.service.name)) {
          report(c.name, ep.serviceEntry, `endpoint "${ep.address}" of "${ep.host}" points to cluster "${ep.cluster}", which runs no Service ${svc}`, path);
        }
      }
    }
  },
  examples: {
    pass: [
      { clusters: [par(), { name: 'fra01', labels: { region: 'europe' }, objects: [service('payment-service', 'shop')] }] },
      { name: 'an endpoint without a cluster is another rule\'s business', clusters: [par([globalServiceEntry('x', 'shop', HOST, [])])] },
    ],
    fail: [
      { name: 'the named cluster runs no such Service', clusters: [par(), { name: 'fra01', labels: { region: 'europe' }, objects: [service('ledger', 'shop')] }] },
      { name: 'the named cluster is not in the fleet', clusters: [par()] },
    ],
  },
});
