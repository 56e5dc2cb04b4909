#!/usr/bin/env node
// Part of `npm run build`, after tsc: folds the built-in packs (dist/policies/**, ~50 small modules) into the one
// file dist/policies/index.js, so that a run resolves and loads one module instead of fifty (~30 ms of a `lint`
// that takes ~200). The packs' only import outside policies/ is the package entry, which stays an import of
// dist/src/index.js: the packs and the commands share one copy of every src module. In place, on purpose: a later
// plain `tsc` rewrites index.js unbundled, so the bundle can never be stale, only absent.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = `${root}dist/policies/index.js`;

const packageEntry = {
  name: 'fleetgate-package-entry',
  setup(b) {
    // every pack imports '../../src/index.js' (layering test): from dist/policies/index.js that is ../src/index.js
    b.onResolve({ filter: /\/src\/index\.js$/ }, () => ({ path: '../src/index.js', external: true }));
  },
};

await build({
  entryPoints: [entry],
  outfile: entry,
  allowOverwrite: true,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  plugins: [packageEntry],
  sourcemap: true,
  logLevel: 'warning',
});
