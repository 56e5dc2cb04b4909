import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Policy } from '../authoring/index.js';
import { loadUserPolicies, type SandboxOptions } from '../engine/index.js';
import { pushAll, type InputError } from '../model/index.js';

/**
 * Users' policies: `.ts`, `.mts`, `.js`, `.mjs` files that export policies (default export: one policy or an array;
 * named exports that are policies count too). Nothing of a user's file runs on this thread: each file is bundled
 * (cached by content) and loaded into the policy sandbox (src/engine/sandbox/), and what comes back here is each
 * policy's definition as plain data. Its validate() exists only inside the sandbox.
 */

const POLICY_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);

async function listPolicyFiles(path: string): Promise<string[]> {
  const st = await stat(path);
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  for (const e of (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(path, e.name);
    if (e.isDirectory()) pushAll(out, await listPolicyFiles(p));
    else if (POLICY_EXTENSIONS.has(extname(e.name)) && !e.name.endsWith('.d.ts') && !/\.test\.[mc]?[jt]s$/.test(e.name)) out.push(p);
  }
  return out;
}

export interface PolicySetOptions {
  /** Built-in policies, handed in by the composition root (bin/fleetgate): this layer never imports policies/. */
  builtins?: readonly Policy[];
  /** Time and memory budget of the sandbox (loading and evaluation). */
  sandbox?: SandboxOptions;
  /** Compiled-bundle cache folder, or false for none (default: $FLEETGATE_CACHE_DIR, $XDG_CACHE_HOME/fleetgate, ~/.cache/fleetgate). */
  cache?: string | false;
}

/** The given built-in policies plus every policy under the given files or folders. Duplicate ids are errors. */
export async function loadPolicySet(paths: readonly string[] = [], options: PolicySetOptions = {}): Promise<{ policies: Policy[]; errors: InputError[] }> {
  const policies: Policy[] = [...(options.builtins ?? [])];
  const errors: InputError[] = [];
  const files: string[] = [];
  for (const p of paths) {
    try {
      pushAll(files, await listPolicyFiles(p));
    } catch (err) {
      errors.push({ file: p, message: `cannot read policies: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
    }
  }
  if (!files.length) return { policies, errors };
  const user = await loadUserPolicies(files, { sandbox: options.sandbox, cache: options.cache });
  pushAll(errors, user.errors);
  for (const pol of user.candidates) {
    const clash = policies.find((q) => q.id === pol.id);
    if (clash) errors.push({ file: pol.file!, message: `policy id "${pol.id}" is already defined${clash.file ? ` in ${clash.file}` : ' by a built-in policy'}` });
    else {
      user.accept(pol);
      policies.push(pol);
    }
  }
  return { policies, errors };
}
