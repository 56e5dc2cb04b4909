import { definePolicy } from '../../src/index.js';
import { cronJob, deployment, pod, strings } from './common.js';

const app = { containers: [{ name: 'web', image: 'shop/web:1.4' }] };
const matches = (value: string, glob: string) => (glob.endsWith('*') ? value.startsWith(glob.slice(0, -1)) : value === glob);

export default definePolicy({
  id: 'practices.no-automount-service-account-token',
  title: 'Pods do not mount a ServiceAccount token they do not need',
  description:
    'Most workloads never call the Kubernetes API, yet by default every pod gets a token for its ServiceAccount, ' +
    'which an attacker in the pod can use. Pods set `spec.automountServiceAccountToken: false`, unless they name a ' +
    'ServiceAccount (`serviceAccountName`) listed in `apiServiceAccounts` as needing the API: entries are `name` ' +
    '(any namespace) or `namespace/name`, with a trailing `*` as a prefix. System namespaces are exempt. Stricter ' +
    "than the Gatekeeper library's K8sPSPAutomountServiceAccountTokenPod, which only rejects an explicit `true` or a " +
    'hand-made mount of the token path: here an unset field counts as mounting (it is the API server\'s default).',
  area: 'practices',
  severity: 'medium',
  action: 'audit',
  match: { kinds: ['Pod'] },
  params: { apiServiceAccounts: [] as string[] },
  validate({ pod, params, report, isSystemNamespace, namespace }) {
    if (isSystemNamespace(namespace.name)) return;
    const automount = pod.spec.automountServiceAccountToken;
    if (automount === false) return;
    const sa = typeof pod.spec.serviceAccountName === 'string' && pod.spec.serviceAccountName ? pod.spec.serviceAccountName : 'default';
    const qualified = `${namespace.name ?? ''}/${sa}`;
    if (sa !== 'default' && strings(params.apiServiceAccounts).some((g) => matches(g.includes('/') ? qualified : sa, g))) return;
    report(
      automount === true
        ? `pod sets automountServiceAccountToken: true for ServiceAccount "${sa}", which is not listed as needing the API: set it to false`
        : `pod mounts the token of ServiceAccount "${sa}" (automountServiceAccountToken is unset): set it to false, or list the ServiceAccount in apiServiceAccounts`,
      automount === true ? pod.path('automountServiceAccountToken') : pod.path(),
    );
  },
  examples: {
    pass: [
      pod({ automountServiceAccountToken: false, ...app }),
      deployment({ automountServiceAccountToken: false, ...app }),
      { name: 'a ServiceAccount that needs the API', objects: [pod({ serviceAccountName: 'operator', ...app })], params: { apiServiceAccounts: ['shop/operator'] } },
      { name: 'by name in any namespace, prefix', objects: [pod({ serviceAccountName: 'argo-workflow', automountServiceAccountToken: true, ...app })], params: { apiServiceAccounts: ['argo-*'] } },
      { name: 'system namespace', objects: [pod(app, 'coredns', 'kube-system')] },
    ],
    fail: [
      pod(app),
      pod({ automountServiceAccountToken: true, ...app }),
      cronJob(app),
      { name: 'the default ServiceAccount is never listed', objects: [pod(app)], params: { apiServiceAccounts: ['default', 'shop/default'] } },
      { name: 'listed in another namespace', objects: [pod({ serviceAccountName: 'operator', ...app })], params: { apiServiceAccounts: ['ops/operator'] } },
    ],
  },
});
