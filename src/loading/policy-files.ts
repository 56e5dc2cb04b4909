import { build, type Plugin } from 'esbuild';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Policy } from '../authoring/index.js';
import type { InputError } from '../model/index.js';

/**
 * Users' policies: `.ts`, `.mts`, `.js`, `.mjs` files that export policies (default export: one policy or an array;
 * named exports that are policies count too). TypeScript is bundled by esbuild to a temporary ES module and imported,
 * so users need no build step. `import { definePolicy } from 'fleetgate'` resolves to this very installation.
 */

const POLICY_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);
const SELF = fileURLToPath(new URL('../index.js', import.meta.url));

/** Rewrites `fleetgate` imports to this installation, and leaves every other package to Node at run time. */
const resolveFleetgate: Plugin = {
  name: 'fleetgate-self',
  setup(b) {
    b.onResolve({ filter: /^fleetgate$/ }, () => ({ path: pathToFileURL(SELF).href, external: true }));
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === 'inner' || args.path.startsWith('node:')) return undefined;
      const found = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: 'inner' });
      if (found.errors.length || !found.path) return { path: args.path, external: true };
      return { path: pathToFileURL(found.path).href, external: true };
    });
  },
};

function isPolicy(v: unknown): v is Policy {
  return !!v && typeof v === 'object' && typeof (v as Policy).id === 'string' && typeof (v as Policy).validate === 'function';
}

async function listPolicyFiles(path: string): Promise<string[]> {
  const st = await stat(path);
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  for (const e of (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(path, e.name);
    if (e.isDirectory()) out.push(...(await listPolicyFiles(p)));
    else if (POLICY_EXTENSIONS.has(extname(e.name)) && !e.name.endsWith('.d.ts') && !/\.test\.[mc]?[jt]s$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Loads one policy file; every problem is an InputError naming the file. */
export async function loadPolicyFile(file: string, workDir: string): Promise<{ policies: Policy[]; errors: InputError[] }> {
  const abs = resolve(file);
  const out = join(workDir, `${Math.random().toString(36).slice(2)}.mjs`);
  try {
    const result = await build({
      entryPoints: [abs],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: out,
      write: false,
      logLevel: 'silent',
      plugins: [resolveFleetgate],
      sourcemap: 'inline',
    });
    await writeFile(out, result.outputFiles[0].text);
  } catch (err) {
    const e = err as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] };
    const first = e.errors?.[0];
    return {
      policies: [],
      errors: [
        {
          file,
          line: first?.location?.line,
          column: first?.location ? first.location.column + 1 : undefined,
          message: `cannot compile policy: ${first?.text ?? String(err)}`,
        },
      ],
    };
  }
  try {
    const mod = (await import(pathToFileURL(out).href)) as Record<string, unknown>;
    const found: Policy[] = [];
    for (const value of Object.values(mod)) {
      for (const v of Array.isArray(value) ? value : [value]) if (isPolicy(v) && !found.includes(v)) found.push(v);
    }
    if (!found.length) return { policies: [], errors: [{ file, message: 'exports no policy (export default definePolicy({...}))' }] };
    return { policies: found.map((p) => Object.freeze({ ...p, file })), errors: [] };
  } catch (err) {
    return { policies: [], errors: [{ file, message: `cannot load policy: ${err instanceof Error ? err.message : String(err)}` }] };
  }
}

/**
 * The given built-in policies plus every policy under the given files or folders. Duplicate ids are errors.
 * The built-in packs are handed in by the composition root (bin/fleetgate): this layer never imports policies/.
 */
export async function loadPolicySet(
  paths: readonly string[] = [],
  options: { builtins?: readonly Policy[] } = {},
): Promise<{ policies: Policy[]; errors: InputError[] }> {
  const policies: Policy[] = [...(options.builtins ?? [])];
  const errors: InputError[] = [];
  if (!paths.length) return { policies, errors };
  const workDir = await mkdtemp(join(tmpdir(), 'fleetgate-policies-'));
  try {
    for (const p of paths) {
      let files: string[];
      try {
        files = await listPolicyFiles(p);
      } catch (err) {
        errors.push({ file: p, message: `cannot read policies: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
        continue;
      }
      for (const f of files) {
        const loaded = await loadPolicyFile(f, workDir);
        errors.push(...loaded.errors);
        for (const pol of loaded.policies) {
          const clash = policies.find((q) => q.id === pol.id);
          if (clash) errors.push({ file: f, message: `policy id "${pol.id}" is already defined${clash.file ? ` in ${clash.file}` : ' by a built-in policy'}` });
          else policies.push(pol);
        }
      }
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  return { policies, errors };
}
