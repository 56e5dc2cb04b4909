#!/usr/bin/env node
// Part of `npm run build`, after tsc: fewer, bigger modules for a faster start. Loading a module costs ~0.5 ms of
// resolution and reading whatever its size, and a `lint` of one small file spent most of its ~200 ms loading
// ~50 built-in-pack modules and the `yaml` package's ~70 CommonJS files (see bench/RESULTS.md, start time):
//
// - dist/policies/index.js becomes the built-in packs in one file. Their only import outside policies/ is the
//   package entry, which stays an import of dist/src/index.js: packs and commands share one copy of src.
// - the `yaml` package is bundled into dist/vendor/yaml.js, and dist's imports of 'yaml' point there, so every
//   module of the build uses that one copy (same version, from node_modules at build time).
//
// Both in place, on purpose: a later plain `tsc` rewrites the files unbundled, so a bundle is never stale, only
// absent (and everything still works, more slowly). Sources and tests (run from TypeScript) are unaffected.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const common = { bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning' };

const policies = join(dist, 'policies/index.js');
await build({
  ...common,
  entryPoints: [policies],
  outfile: policies,
  allowOverwrite: true,
  packages: 'external',
  sourcemap: true,
  plugins: [
    {
      name: 'fleetgate-package-entry',
      setup(b) {
        // every pack imports '../../src/index.js' (layering test): from dist/policies/index.js that is ../src/index.js
        b.onResolve({ filter: /\/src\/index\.js$/ }, () => ({ path: '../src/index.js', external: true }));
      },
    },
  ],
});

const vendor = join(dist, 'vendor/yaml.js');
const names = Object.keys(createRequire(join(root, 'package.json'))('yaml')).filter((n) => n !== 'default');
await build({
  ...common,
  stdin: { contents: `export { ${names.join(', ')} } from 'yaml';`, resolveDir: root, sourcefile: 'yaml-entry.js' },
  outfile: vendor,
  // yaml requires node's own modules ('process'): give the ESM bundle a require for them
  banner: { js: "import { createRequire as __fleetgateRequire } from 'node:module';\nconst require = __fleetgateRequire(import.meta.url);" },
});

const YAML_IMPORT = /(\bfrom\s*|\bimport\s*\(\s*)(['"])yaml\2/g;
async function* jsFiles(dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* jsFiles(p);
    else if (e.name.endsWith('.js') && p !== vendor) yield p;
  }
}
for await (const file of jsFiles(dist)) {
  const text = await readFile(file, 'utf8');
  if (!YAML_IMPORT.test(text)) continue;
  let spec = relative(dirname(file), vendor).split(sep).join('/');
  if (!spec.startsWith('.')) spec = `./${spec}`;
  await writeFile(file, text.replace(YAML_IMPORT, (_m, lead, q) => `${lead}${q}${spec}${q}`));
}
