import { defineClusterPolicy } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';
import { NAMESPACE_NAME_PATH, isEmptySelector, isObject, namespace, objectsIn } from '../isolation/namespaces.js';

const pa = (spec: Record<string, unknown>, namespace = 'istio-system', apiVersion = 'security.istio.io/v1'): KubeObject => ({
  apiVersion,
  kind: 'PeerAuthentication',
  metadata: { name: 'default', namespace },
  spec,
});

export default defineClusterPolicy({
  id: 'mesh.strict-mtls-mesh-wide',
  title: 'The mesh enforces STRICT mTLS mesh-wide',
  description:
    'Where the inventory holds the Istio root Namespace (`rootNamespace`, default `istio-system`), it also holds a ' +
    'PeerAuthentication there with no selector and `mtls.mode: STRICT`: the mesh-wide default every namespace inherits. ' +
    'The finding is on that Namespace; an inventory without it (a tenant repo, a cluster without Istio) has nothing to check. ' +
    'Add `apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: istio-system}, spec: {mtls: {mode: STRICT}}`.',
  area: 'mesh',
  severity: 'high',
  action: 'deny',
  scope: 'cluster',
  match: { kinds: ['Namespace', 'security.istio.io/PeerAuthentication'] },
  params: { rootNamespace: 'istio-system' },
  validate(ctx) {
    const root = typeof ctx.params.rootNamespace === 'string' ? ctx.params.rootNamespace : 'istio-system';
    const ns = ctx.inventory.namespace(root);
    if (!ns) return;
    const meshWide = objectsIn(ctx.inventory, 'security.istio.io', 'PeerAuthentication', root).filter((p) => {
      const spec = isObject(p.spec) ? p.spec : {};
      return isEmptySelector(spec.selector);
    });
    const strict = meshWide.some((p) => {
      const spec = isObject(p.spec) ? p.spec : {};
      return isObject(spec.mtls) && spec.mtls.mode === 'STRICT';
    });
    if (strict) return;
    const modes = meshWide.map((p) => {
      const spec = isObject(p.spec) ? p.spec : {};
      return `"${p.metadata?.name ?? ''}" (mode ${isObject(spec.mtls) && typeof spec.mtls.mode === 'string' ? spec.mtls.mode : 'unset'})`;
    });
    ctx.report(
      ns,
      (modes.length
        ? `the mesh-wide PeerAuthentication in "${root}" is not STRICT: ${modes.join(', ')}; set spec.mtls.mode: STRICT`
        : `namespace "${root}" has no mesh-wide PeerAuthentication (no selector, mtls.mode STRICT): add one named "default" in "${root}"`) +
        ' so that every workload of the mesh requires mTLS',
      [...NAMESPACE_NAME_PATH],
    );
  },
  examples: {
    pass: [
      { name: 'mesh-wide STRICT', objects: [namespace('istio-system'), pa({ mtls: { mode: 'STRICT' } })] },
      { name: 'v1beta1 with an empty selector', objects: [namespace('istio-system'), pa({ selector: {}, mtls: { mode: 'STRICT' } }, 'istio-system', 'security.istio.io/v1beta1')] },
      { name: 'inventory without istio-system has nothing to check', objects: [namespace('shop'), pa({ mtls: { mode: 'PERMISSIVE' } }, 'shop')] },
      {
        name: 'rootNamespace parameter',
        objects: [namespace('istio-config'), pa({ mtls: { mode: 'STRICT' } }, 'istio-config')],
        params: { rootNamespace: 'istio-config' },
      },
    ],
    fail: [
      { name: 'istio-system without PeerAuthentication', objects: [namespace('istio-system')] },
      { name: 'mesh-wide PERMISSIVE', objects: [namespace('istio-system'), pa({ mtls: { mode: 'PERMISSIVE' } })] },
      { name: 'mode unset is not STRICT at the root', objects: [namespace('istio-system'), pa({})] },
      {
        name: 'a STRICT policy with a selector is not mesh-wide',
        objects: [namespace('istio-system'), pa({ selector: { matchLabels: { app: 'istiod' } }, mtls: { mode: 'STRICT' } })],
      },
      { name: 'STRICT in another namespace is not mesh-wide', objects: [namespace('istio-system'), pa({ mtls: { mode: 'STRICT' } }, 'shop')] },
    ],
  },
});
