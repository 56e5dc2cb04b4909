import type { Policy } from '../../src/index.js';

/** The mesh pack. */
export const policies: Policy[] = [];
