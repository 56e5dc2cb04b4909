/**
 * The loading layer: reading what users hand fleetgate from disk — manifests (YAML/JSON, with source positions),
 * policy files (.ts/.js bundled by esbuild), PolicyTest files and policies' own examples. Built-in packs are not
 * known here: the composition root passes them to `loadPolicySet`.
 */
export { loadPaths, loadFile, loadText, findManifestFiles, MANIFEST_EXTENSIONS } from './manifests.js';
export type { LoadResult, LoadOptions } from './manifests.js';
export { loadPolicySet, loadPolicyFile } from './policy-files.js';
export { runPolicyExamples, runTestFiles } from './testing.js';
export type { CaseResult, Expectation } from './testing.js';
