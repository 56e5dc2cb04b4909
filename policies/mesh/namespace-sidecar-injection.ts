import { definePolicy } from '../../src/index.js';
import { namespace as ns } from '../_shared/examples.js';


export default definePolicy({
  id: 'mesh.namespace-sidecar-injection',
  title: 'Every tenant namespace has Istio sidecar injection enabled',
  description:
    'Pods without a sidecar are outside the mesh: they neither get nor enforce mTLS, and under a STRICT mesh they cannot ' +
    'reach their peers. Every tenant Namespace carries `istio-injection: enabled` or an `istio.io/rev` label (revision-based ' +
    'injection). System namespaces are exempt. Warn by default: ambient-mode namespaces (`istio.io/dataplane-mode: ambient`) ' +
    'are a legitimate exception to waive with a PolicyException.',
  area: 'mesh',
  severity: 'medium',
  action: 'warn',
  match: { kinds: ['Namespace'] },
  validate({ object, report, isSystemNamespace }) {
    const name = object.metadata?.name;
    if (isSystemNamespace(name)) return;
    const labels = object.metadata?.labels ?? {};
    const injection = labels['istio-injection'];
    const rev = labels['istio.io/rev'];
    if (injection === 'enabled' || (typeof rev === 'string' && rev !== '')) return;
    if (injection !== undefined)
      report(
        `namespace "${name ?? ''}" sets istio-injection: ${JSON.stringify(injection)}, so its pods get no sidecar: set istio-injection: enabled (or an istio.io/rev label)`,
        ['metadata', 'labels', 'istio-injection'],
      );
    else
      report(
        `namespace "${name ?? ''}" has no sidecar injection label: add istio-injection: enabled (or istio.io/rev: <revision>) to metadata.labels`,
        object.metadata?.labels ? ['metadata', 'labels'] : ['metadata'],
      );
  },
  examples: {
    pass: [
      ns('shop', { 'istio-injection': 'enabled' }),
      ns('payments', { 'istio.io/rev': 'canary-1-24' }),
      { name: 'system namespace is exempt', objects: [ns('kube-system')] },
      { name: 'namespace labelled fleetgate.io/system is exempt', objects: [ns('cert-manager', { 'fleetgate.io/system': 'true' })] },
    ],
    fail: [ns('shop'), ns('shop', { team: 'web' }), ns('legacy', { 'istio-injection': 'disabled' }), ns('payments', { 'istio.io/rev': '' })],
  },
});
