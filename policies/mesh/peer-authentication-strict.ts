import { definePolicy } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';
import { isObject } from '../isolation/namespaces.js';

const BAD = ['PERMISSIVE', 'DISABLE'];

const pa = (spec: Record<string, unknown>, apiVersion = 'security.istio.io/v1beta1', namespace = 'shop'): KubeObject => ({
  apiVersion,
  kind: 'PeerAuthentication',
  metadata: { name: 'default', namespace },
  spec,
});

export default definePolicy({
  id: 'mesh.peer-authentication-strict',
  title: 'PeerAuthentications do not weaken mTLS',
  description:
    "A PeerAuthentication's `spec.mtls.mode` is STRICT or unset/UNSET (inherit from the namespace or mesh), and no " +
    '`portLevelMtls` entry is PERMISSIVE or DISABLE: plaintext to a workload lets anyone on the network impersonate its ' +
    'peers. Set the mode to STRICT (or remove it). Applies in every namespace, istio-system included (a PERMISSIVE ' +
    'policy there weakens the whole mesh). Works with security.istio.io v1beta1 and v1.',
  area: 'mesh',
  severity: 'high',
  action: 'deny',
  match: { kinds: ['security.istio.io/PeerAuthentication'] },
  validate({ object, report }) {
    const spec = isObject(object.spec) ? object.spec : {};
    const mode = isObject(spec.mtls) ? spec.mtls.mode : undefined;
    const where = `PeerAuthentication "${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}"`;
    if (typeof mode === 'string' && BAD.includes(mode.toUpperCase()))
      report(`${where} sets mtls.mode ${mode}, which accepts plaintext: set it to STRICT or remove it to inherit`, ['spec', 'mtls', 'mode']);
    if (isObject(spec.portLevelMtls))
      for (const [port, setting] of Object.entries(spec.portLevelMtls)) {
        const m = isObject(setting) ? setting.mode : undefined;
        if (typeof m === 'string' && BAD.includes(m.toUpperCase()))
          report(`${where} sets portLevelMtls port ${port} to ${m}, which accepts plaintext on that port: set it to STRICT or remove the entry`, [
            'spec',
            'portLevelMtls',
            port,
            'mode',
          ]);
      }
  },
  examples: {
    pass: [
      pa({ mtls: { mode: 'STRICT' } }),
      pa({ selector: { matchLabels: { app: 'web' } } }),
      pa({ mtls: { mode: 'UNSET' } }, 'security.istio.io/v1'),
      pa({ selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'STRICT' } } }),
    ],
    fail: [
      pa({ mtls: { mode: 'PERMISSIVE' } }),
      pa({ mtls: { mode: 'DISABLE' } }, 'security.istio.io/v1'),
      pa({ selector: { matchLabels: { app: 'metrics' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { '9090': { mode: 'DISABLE' } } }),
      pa({ selector: { matchLabels: { app: 'web' } }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } }, 'security.istio.io/v1beta1'),
      { name: 'istio-system is not exempt', objects: [pa({ mtls: { mode: 'PERMISSIVE' } }, 'security.istio.io/v1', 'istio-system')] },
    ],
  },
});
