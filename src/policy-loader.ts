import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { builtinPolicies } from '../policies/index.js';
import { definePolicy, PolicyDefinitionError, type Policy } from './dsl.js';
import type { SandboxOptions } from './sandbox/host.js';
import type { InputError } from './types.js';

/**
 * Users' policies: `.ts`, `.mts`, `.js`, `.mjs` files that export policies (default export: one policy or an array;
 * named exports that are policies count too). Nothing of a user's file runs on this thread: each file is bundled
 * (src/sandbox/compile.ts, cached by content) and loaded into the policy sandbox (src/sandbox/host.ts), and what
 * comes back here is each policy's definition as plain data. Its validate() exists only inside the sandbox.
 */

const POLICY_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);

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

function sandboxed(): never {
  throw new Error('a user policy runs only inside the policy sandbox');
}

export interface LoadOptions {
  builtins?: boolean;
  /** Time and memory budget of the sandbox (loading and evaluation). */
  sandbox?: SandboxOptions;
  /** Compiled-bundle cache folder, or false for none (default: see src/sandbox/compile.ts). */
  cache?: string | false;
}

/** Built-in policies plus every policy under the given files or folders. Duplicate ids are errors. */
export async function loadPolicySet(paths: readonly string[] = [], options: LoadOptions = {}): Promise<{ policies: Policy[]; errors: InputError[] }> {
  const policies: Policy[] = options.builtins === false ? [] : [...builtinPolicies];
  const errors: InputError[] = [];
  if (!paths.length) return { policies, errors };
  const files: string[] = [];
  for (const p of paths) {
    try {
      files.push(...(await listPolicyFiles(p)));
    } catch (err) {
      errors.push({ file: p, message: `cannot read policies: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
    }
  }
  if (!files.length) return { policies, errors };
  // The sandbox (isolated-vm, esbuild) is loaded only when there are user policies.
  const [{ compilePolicyFile }, { PolicyHost }] = await Promise.all([import('./sandbox/compile.js'), import('./sandbox/host.js')]);
  const compiled = [];
  for (const f of files) {
    const c = await compilePolicyFile(f, { cache: options.cache });
    if ('message' in c) errors.push(c);
    else compiled.push(c);
  }
  const { host, errors: loadErrors } = await PolicyHost.create(compiled, options.sandbox);
  errors.push(...loadErrors);
  for (const { file, policies: metas } of host.loaded) {
    for (const meta of metas) {
      let pol: Policy;
      try {
        // The definition is checked again here: what the sandbox says is data to verify, not to trust.
        pol = Object.freeze({ ...definePolicy({ ...(meta as object), validate: sandboxed } as never), file });
      } catch (err) {
        errors.push({ file, message: err instanceof PolicyDefinitionError ? err.message : `invalid policy definition: ${String(err)}` });
        continue;
      }
      const clash = policies.find((q) => q.id === pol.id);
      if (clash) errors.push({ file, message: `policy id "${pol.id}" is already defined${clash.file ? ` in ${clash.file}` : ' by a built-in policy'}` });
      else {
        host.adopt(pol);
        policies.push(pol);
      }
    }
  }
  return { policies, errors };
}
