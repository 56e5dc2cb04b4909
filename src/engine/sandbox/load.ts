import { definePolicy, PolicyDefinitionError, type Policy } from '../../authoring/index.js';
import type { InputError } from '../../model/index.js';
import { compilePolicyFile, compileRuntime } from './compile.js';
import { PolicyHost, type SandboxOptions } from './host.js';

/**
 * Users' policy files into the sandbox: bundled (cached by content) next to the one shared runtime every file in
 * the isolate uses, loaded into one isolate under the budget,
 * and each policy's definition brought back as data and checked here again with definePolicy, because what the
 * sandbox says is data to verify, not to trust. Loaded through engine/index's `loadUserPolicies` on first use.
 */

function sandboxed(): never {
  throw new Error('a user policy runs only inside the policy sandbox');
}

export interface UserPolicies {
  /** Every definition that loaded and checked out; call `accept` on those the caller keeps (ids that do not clash). */
  candidates: Policy[];
  errors: InputError[];
  /** Marks a candidate as part of the policy set; only accepted policies ever run. */
  accept(policy: Policy): void;
}

export async function loadUserPolicies(files: readonly string[], opts: { sandbox?: SandboxOptions; cache?: string | false } = {}): Promise<UserPolicies> {
  const errors: InputError[] = [];
  const compiled = [];
  const hashes = new Map<string, Promise<string>>();
  const runtime = compileRuntime({ cache: opts.cache, hashes });
  for (const c of await Promise.all(files.map((f) => compilePolicyFile(f, { cache: opts.cache, hashes })))) {
    if ('message' in c) errors.push(c);
    else compiled.push(c);
  }
  const { host, errors: loadErrors } = await PolicyHost.create(await runtime, compiled, opts.sandbox);
  errors.push(...loadErrors);
  const candidates: Policy[] = [];
  for (const { file, policies } of host.loaded) {
    for (const meta of policies) {
      try {
        candidates.push(Object.freeze({ ...definePolicy({ ...(meta as object), validate: sandboxed } as never), file }));
      } catch (err) {
        errors.push({ file, message: err instanceof PolicyDefinitionError ? err.message : `invalid policy definition: ${String(err)}` });
      }
    }
  }
  return { candidates, errors, accept: (p) => host.adopt(p) };
}
