import { definePolicy } from '../../src/index.js';
import { isObject } from '../isolation/namespaces.js';
import { service, strings } from './common.js';

const specOf = (o: { [k: string]: unknown }) => (isObject(o.spec) ? o.spec : {});

export default definePolicy({
  id: 'practices.no-service-external-ips',
  title: 'Services set no externalIPs (CVE-2020-8554)',
  description:
    'Whoever can create a Service with `spec.externalIPs` can intercept traffic of the whole cluster to those IPs ' +
    '(CVE-2020-8554, a man-in-the-middle no patch fixes). Only the addresses in `allowedIPs` may be used, as the ' +
    "Gatekeeper library's K8sExternalIPs. Applies in every namespace.",
  area: 'practices',
  severity: 'high',
  action: 'deny',
  match: { kinds: ['Service'] },
  params: { allowedIPs: [] as string[] },
  validate({ object, params, report }) {
    const ips = specOf(object).externalIPs;
    if (!Array.isArray(ips)) return;
    const allowed = strings(params.allowedIPs);
    ips.forEach((ip, i) => {
      if (typeof ip !== 'string' || !allowed.includes(ip))
        report(`Service sets externalIP ${JSON.stringify(ip)}, which lets it intercept cluster traffic to that address (CVE-2020-8554)${allowed.length ? `; allowed: ${allowed.join(', ')}` : ''}`, ['spec', 'externalIPs', i]);
    });
  },
  examples: {
    pass: [service({}), service({ externalIPs: [] }), { name: 'allowed IP', objects: [service({ externalIPs: ['203.0.113.10'] })], params: { allowedIPs: ['203.0.113.10'] } }],
    fail: [
      service({ externalIPs: ['8.8.8.8'] }),
      { name: 'one of two not allowed', objects: [service({ externalIPs: ['203.0.113.10', '1.1.1.1'] })], params: { allowedIPs: ['203.0.113.10'] } },
      { name: 'system namespaces too', objects: [service({ externalIPs: ['10.0.0.1'] }, 'dns', 'kube-system')] },
    ],
  },
});
