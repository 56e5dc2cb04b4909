import type { Policy } from '../../src/index.js';

/** The gdpr pack. */
export const policies: Policy[] = [];
