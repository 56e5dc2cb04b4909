import { definePolicy } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';
import { isObject } from '../isolation/namespaces.js';
import { inEu } from './eu.js';

const serviceEntry = (endpoints: Record<string, unknown>[], apiVersion = 'networking.istio.io/v1beta1'): KubeObject => ({
  apiVersion,
  kind: 'ServiceEntry',
  metadata: { name: 'payment-provider', namespace: 'shop' },
  spec: { hosts: ['payments.provider.example'], location: 'MESH_EXTERNAL', resolution: 'DNS', ports: [{ number: 443, name: 'https', protocol: 'TLS' }], endpoints },
});
const eu = { region: 'europe' };

export default definePolicy({
  id: 'gdpr.no-egress-outside-eu',
  title: 'On EU clusters, mesh egress endpoints are in the EU',
  description:
    'On clusters whose `region` label is in `euRegions` (default `[europe]`), every endpoint of an Istio ServiceEntry ' +
    'has a `locality` whose region (the part before the first `/`) starts with one of `euLocalityPrefixes` ' +
    '(default `eu-`, `europe-`); an endpoint without a locality is a finding too, since where it sends data is unknown. ' +
    'Point the endpoint at an EU deployment of the service and set its locality (e.g. `eu-central-1/fra01`). ' +
    'ServiceEntries without endpoints are not judged. Not exempt in system namespaces: egress from istio-system leaves the EU too.',
  area: 'gdpr',
  severity: 'high',
  action: 'deny',
  match: { kinds: ['networking.istio.io/ServiceEntry'] },
  params: { euRegions: ['europe'] as string[], euLocalityPrefixes: ['eu-', 'europe-'] as string[] },
  validate({ object, cluster, params, report }) {
    if (inEu(cluster.labels, params.euRegions) !== true) return;
    const prefixes = (Array.isArray(params.euLocalityPrefixes) ? params.euLocalityPrefixes : []).map((p) => String(p).toLowerCase());
    const endpoints = isObject(object.spec) && Array.isArray(object.spec.endpoints) ? object.spec.endpoints : [];
    endpoints.forEach((ep: unknown, i) => {
      if (!isObject(ep)) return;
      const address = typeof ep.address === 'string' ? ep.address : `#${i}`;
      const locality = typeof ep.locality === 'string' ? ep.locality.trim() : '';
      if (!locality) {
        report(
          `endpoint "${address}" has no locality, so this EU cluster may send data outside the EU: set spec.endpoints[${i}].locality to an EU region (${prefixes.map((p) => `${p}*`).join(', ')})`,
          ['spec', 'endpoints', i],
        );
        return;
      }
      const region = locality.split('/')[0].toLowerCase();
      if (!prefixes.some((p) => region.startsWith(p)))
        report(
          `endpoint "${address}" is in locality "${locality}", outside the EU: this EU cluster must only send to endpoints whose locality region starts with ${prefixes.map((p) => `"${p}"`).join(' or ')}`,
          ['spec', 'endpoints', i, 'locality'],
        );
    });
  },
  examples: {
    pass: [
      { name: 'EU endpoints on an EU cluster', objects: [serviceEntry([{ address: 'pay.fra01.example', locality: 'eu-central-1/fra01' }, { address: 'pay.par01.example', locality: 'europe-west9/par01' }])], clusterLabels: eu },
      { name: 'non-EU cluster is not judged', objects: [serviceEntry([{ address: 'pay.iad01.example', locality: 'us-east-1/iad01' }])], clusterLabels: { region: 'us-east' } },
      { name: 'no endpoints: nothing to judge', objects: [serviceEntry([])], clusterLabels: eu },
      { name: 'istio v1 apiVersion', objects: [serviceEntry([{ address: 'pay.fra01.example', locality: 'EU-central-1' }], 'networking.istio.io/v1')], clusterLabels: eu },
      {
        name: 'prefix parameter',
        objects: [serviceEntry([{ address: 'pay.zrh01.example', locality: 'ch-north-1/zrh01' }])],
        clusterLabels: eu,
        params: { euLocalityPrefixes: ['eu-', 'europe-', 'ch-'] },
      },
    ],
    fail: [
      { name: 'US endpoint on an EU cluster', objects: [serviceEntry([{ address: 'pay.iad01.example', locality: 'us-east-1/iad01' }])], clusterLabels: eu },
      { name: 'endpoint without locality', objects: [serviceEntry([{ address: 'pay.provider.example' }])], clusterLabels: eu },
      {
        name: 'one bad endpoint among good ones (v1alpha3)',
        objects: [serviceEntry([{ address: 'a', locality: 'eu-west-1' }, { address: 'b', locality: 'ap-south-1/bom01' }], 'networking.istio.io/v1alpha3')],
        clusterLabels: eu,
      },
      { name: 'a region merely starting with "eu" (eurasia-1) is not in the EU', objects: [serviceEntry([{ address: 'x', locality: 'eurasia-1/ala01' }])], clusterLabels: eu },
    ],
  },
});
