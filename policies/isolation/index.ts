import type { Policy } from '../../src/index.js';
import namespaceDefaultDeny from './namespace-default-deny.js';
import noHostNamespaces from './no-host-namespaces.js';
import rbacStaysInNamespace from './rbac-stays-in-namespace.js';

/** The isolation pack: namespaces are tenant boundaries. */
export const policies: Policy[] = [namespaceDefaultDeny, noHostNamespaces, rbacStaysInNamespace];
