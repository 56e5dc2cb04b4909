import type { Policy } from '../../src/index.js';
import blastRadius from './blast-radius.js';
import overlayConsistency from './overlay-consistency.js';

/** The fleet pack: rules over the whole fleet that no single cluster can judge. */
export const policies: Policy[] = [blastRadius, overlayConsistency];
