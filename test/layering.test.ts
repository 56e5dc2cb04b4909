import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { ROOT } from './helpers/cli.js';

/**
 * The import rules of docs/architecture.md, checked on the source itself:
 *
 *   model < authoring < engine < loading, report < cli          (src/, one folder per layer)
 *
 * - a layer imports only lower layers, and only through their `index.ts` (inside a layer, anything goes);
 * - `src/index.ts` (the package entry `fleetgate`) re-exports layer entry points only;
 * - nothing under `src/` imports `policies/`, an application or anything else outside `src/`;
 * - `policies/` import only the package entry `src/index.ts` (and each other);
 * - applications (every other top-level folder with TypeScript: webhook/, scanner/, bench/, testkit/, watch/, ...)
 *   import `src/` only through `src/index.ts` or a layer's `index.ts`.
 * Thread entry points are composition roots of their own thread and may import any layer's entry point.
 */

const LAYERS: Record<string, number> = { model: 0, authoring: 1, engine: 2, loading: 3, report: 3, cli: 4 };
/** Files that start a thread: like bin/fleetgate, they compose layers rather than sit in one. */
const THREAD_ENTRIES = new Set(['src/engine/sandbox/worker.ts']);
/** Top-level folders that are neither the library, the packs nor applications. */
const NOT_APPS = new Set(['src', 'policies', 'test', 'node_modules', 'dist', 'docs', 'examples', 'charts', 'deploy', 'bin']);

type Files = Map<string, string>;

/** Every relative module specifier a file imports or re-exports, statically or dynamically. */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  const re = /\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
  for (const m of code.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith('.')) out.push(spec);
  }
  return out;
}

/** Repository-relative path of an import, with `.js` mapped back to the `.ts` source. */
function target(from: string, spec: string): string {
  return posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.js$/, '.ts');
}

const layerOf = (path: string): string | undefined => {
  const [top, layer, ...rest] = path.split('/');
  return top === 'src' && rest.length && layer in LAYERS ? layer : undefined;
};
const isLayerIndex = (path: string) => /^src\/[^/]+\/index\.ts$/.test(path) && layerOf(path) !== undefined;

/** Every broken rule, as "file: what it imports (why that is not allowed)". */
export function violations(files: Files): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    const top = file.split('/')[0];
    for (const spec of importsOf(text)) {
      const to = target(file, spec);
      const toTop = to.split('/')[0];
      const bad = (why: string) => out.push(`${file}: imports ${spec} (${why})`);
      if (top === 'src') {
        if (toTop !== 'src') {
          bad(`nothing under src/ imports ${toTop}/`);
          continue;
        }
        const mine = layerOf(file);
        const theirs = layerOf(to);
        if (file === 'src/index.ts' || THREAD_ENTRIES.has(file)) {
          if (!isLayerIndex(to) && !(THREAD_ENTRIES.has(file) && layerOf(to) === mine)) bad('an entry point imports layer entry points only');
          continue;
        }
        if (!theirs) {
          bad('a layer does not import the package entry or a file outside the layers');
          continue;
        }
        if (!mine || theirs === mine) continue;
        if (LAYERS[theirs] >= LAYERS[mine]) bad(`${mine} may not import ${theirs}: a layer imports only lower layers`);
        else if (!isLayerIndex(to)) bad(`import ${theirs} through src/${theirs}/index.js, not its internals`);
      } else if (top === 'policies') {
        if (toTop !== 'policies' && to !== 'src/index.ts') bad('policies import only the package entry src/index.js');
      } else if (!NOT_APPS.has(top) && toTop === 'src' && to !== 'src/index.ts' && !isLayerIndex(to)) {
        bad('an application imports a layer through its index.js, never its internals');
      }
    }
  }
  return out;
}

function sources(dir: string, out: Files = new Map()): Files {
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!dir && (e.name.startsWith('.') || ['node_modules', 'dist', 'test'].includes(e.name))) continue;
      sources(path, out);
    } else if (/\.[mc]?ts$/.test(e.name) && !e.name.endsWith('.d.ts')) {
      out.set(relative(ROOT, join(ROOT, path)).split('\\').join('/'), readFileSync(join(ROOT, path), 'utf8'));
    }
  }
  return out;
}

t.test('the checker sees each kind of broken rule', async (t) => {
  const files: Files = new Map([
    ['src/model/types.ts', `import { Engine } from '../engine/index.js';`],
    ['src/engine/engine.ts', `import type { Policy } from '../authoring/dsl.js';\nimport { x } from './context.js';`],
    ['src/engine/exceptions.ts', `export { y } from '../authoring/index.js';`],
    ['src/loading/policy-files.ts', `const m = await import('../../policies/index.js');`],
    ['src/report/pretty.ts', `import { loadPaths } from '../loading/index.js';`],
    ['src/index.ts', `export * from './model/types.js';`],
    ['webhook/server.ts', `import { Engine } from '../src/engine/engine.js';\nimport { a } from '../src/engine/index.js';`],
    ['watch/run.ts', `import { b } from '../src/index.js';\nimport { c } from '../src/glob.js';`],
    ['policies/quota/x.ts', `import { d } from '../../src/authoring/index.js';\nimport { e } from '../../src/index.js';`],
    ['src/cli/lint.ts', `// import { old } from '../../webhook/server.js';\nimport { f } from '../engine/index.js';`],
  ]);
  const found = violations(files);
  t.match(found, [
    /^src\/model\/types\.ts: imports \.\.\/engine\/index\.js \(model may not import engine/,
    /^src\/engine\/engine\.ts: imports \.\.\/authoring\/dsl\.js \(import authoring through src\/authoring\/index\.js/,
    /^src\/loading\/policy-files\.ts: imports \.\.\/\.\.\/policies\/index\.js \(nothing under src\/ imports policies\//,
    /^src\/report\/pretty\.ts: imports \.\.\/loading\/index\.js \(report may not import loading/,
    /^src\/index\.ts: imports \.\/model\/types\.js \(an entry point imports layer entry points only/,
    /^webhook\/server\.ts: imports \.\.\/src\/engine\/engine\.js \(an application imports a layer through its index\.js/,
    /^watch\/run\.ts: imports \.\.\/src\/glob\.js \(an application/,
    /^policies\/quota\/x\.ts: imports \.\.\/\.\.\/src\/authoring\/index\.js \(policies import only the package entry/,
  ]);
  t.equal(found.length, 8, 'and nothing else: same-layer, lower-layer index, package-entry and commented-out imports are fine');
});

t.test('the repository keeps the layering', async (t) => {
  const files = sources('');
  t.ok(files.has('src/engine/index.ts') && files.has('webhook/server.ts'), 'the walk sees src/ and the applications');
  for (const layer of Object.keys(LAYERS)) t.ok(files.has(`src/${layer}/index.ts`), `src/${layer}/index.ts is the ${layer} entry point`);
  t.same(violations(files), [], 'no import breaks a rule');
});
