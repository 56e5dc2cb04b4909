import type { Policy } from '../../src/index.js';

/** The quota pack. */
export const policies: Policy[] = [];
