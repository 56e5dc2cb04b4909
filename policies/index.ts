import type { Policy } from '../src/index.js';
import { policies as fleet } from './fleet/index.js';
import { policies as gdpr } from './gdpr/index.js';
import { policies as isolation } from './isolation/index.js';
import { policies as mesh } from './mesh/index.js';
import { policies as podSecurity } from './pod-security/index.js';
import { policies as practices } from './practices/index.js';
import { policies as quota } from './quota/index.js';
import { policies as upgrade } from './upgrade/index.js';

/** Every built-in policy, in catalogue order. */
export const builtinPolicies: readonly Policy[] = [...isolation, ...quota, ...gdpr, ...mesh, ...podSecurity, ...practices, ...upgrade, ...fleet];
