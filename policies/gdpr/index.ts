import type { Policy } from '../../src/index.js';
import namespaceDeclaresDataClass from './namespace-declares-data-class.js';
import meshResidency from './mesh-residency.js';
import noEgressOutsideEu from './no-egress-outside-eu.js';
import personalDataResidency from './personal-data-residency.js';

/** The gdpr pack: personal data stays in the EU. */
export const policies: Policy[] = [personalDataResidency, namespaceDeclaresDataClass, noEgressOutsideEu, meshResidency];
