import type { Policy } from '../../src/index.js';
import destinationRuleMutualTls from './destination-rule-mutual-tls.js';
import globalEndpointsExist from './global-endpoints-exist.js';
import namespaceSidecarInjection from './namespace-sidecar-injection.js';
import peerAuthenticationStrict from './peer-authentication-strict.js';
import serviceEntryLocality from './service-entry-locality.js';
import strictMtlsMeshWide from './strict-mtls-mesh-wide.js';

/** The mesh pack: mesh traffic is STRICT mTLS and locality-aware. */
export const policies: Policy[] = [
  namespaceSidecarInjection,
  peerAuthenticationStrict,
  strictMtlsMeshWide,
  destinationRuleMutualTls,
  serviceEntryLocality,
  globalEndpointsExist,
];
