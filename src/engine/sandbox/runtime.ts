/**
 * The entry point of the one bundle of fleetgate code that every policy file in an isolate shares (built by
 * compile.ts, loaded by bootstrap.ts): the authoring surface users import as `fleetgate`, and the dispatcher that
 * runs their policies. bootstrap.ts freezes all of it, deeply, before any user file runs.
 */
import * as api from './policy-api.js';
export { api };
export { createDispatcher } from './dispatcher.js';
