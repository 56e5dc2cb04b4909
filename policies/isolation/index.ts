import type { Policy } from '../../src/index.js';
import noHostNamespaces from './no-host-namespaces.js';

/** The isolation pack: namespaces are tenant boundaries. */
export const policies: Policy[] = [noHostNamespaces];
