import type { Policy } from '../../src/index.js';

/** The pod-security pack. */
export const policies: Policy[] = [];
