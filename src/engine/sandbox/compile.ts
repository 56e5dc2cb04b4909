import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import type { InputError } from '../../model/index.js';
import type { CompiledFile } from './host.js';

/**
 * A user's policy file, bundled by esbuild into one script for the isolate: the file, what it imports (local
 * files and pure-JS packages), `fleetgate` as the authoring surface (src/sandbox/policy-api) and the guest that
 * turns its exports into metadata and findings. Importing a Node built-in is a compile error: nothing in the
 * isolate could provide it.
 *
 * Bundles are cached by content: the key is the file's path and bytes, and an entry is used only when every file
 * that went into it still has the same SHA-256, so a warm run (`lint` in CI, a restarted webhook) loads no esbuild.
 * The cache lives in $FLEETGATE_CACHE_DIR, else $XDG_CACHE_HOME/fleetgate, else ~/.cache/fleetgate; a cache that
 * cannot be written costs a compile, never an error.
 */

const CACHE_FORMAT = 'fleetgate-policy-bundle-2';
const ENTRY_NAME = 'fleetgate-sandbox-entry.js';
const here = (name: string) => {
  const js = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  return existsSync(js) ? js : js.replace(/\.js$/, '.ts');
};
const API = here('policy-api');
const GUEST = here('guest');
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLEETGATE_CACHE_DIR) return resolve(env.FLEETGATE_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'fleetgate');
  const home = homedir();
  return home ? join(home, '.cache', 'fleetgate') : join(tmpdir(), 'fleetgate-cache');
}

interface CacheEntry {
  format: string;
  inputs: Record<string, string>;
  code: string;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Hashes of files already read while loading one policy set: the inputs fleetgate adds are shared by every bundle. */
export type HashMemo = Map<string, Promise<string>>;

async function cached(path: string, memo: HashMemo): Promise<string | undefined> {
  const hashOf = (file: string) => {
    let h = memo.get(file);
    if (!h) memo.set(file, (h = readFile(file).then(sha256)));
    return h;
  };
  try {
    const entry = JSON.parse(await readFile(path, 'utf8')) as CacheEntry;
    if (entry.format !== CACHE_FORMAT) return undefined;
    const same = await Promise.all(Object.entries(entry.inputs).map(async ([file, hash]) => (await hashOf(file)) === hash));
    return same.every(Boolean) ? entry.code : undefined;
  } catch {
    return undefined;
  }
}

const sandboxResolution: Plugin = {
  name: 'fleetgate-sandbox',
  setup(b) {
    b.onResolve({ filter: /^fleetgate$/ }, () => ({ path: API }));
    b.onResolve({ filter: /.*/ }, (args) => {
      if (!BUILTINS.has(args.path)) return undefined;
      return {
        errors: [{ text: `policies cannot import "${args.path}": they run without Node's built-in modules (no file system, network, processes or environment)` }],
      };
    });
  },
};

/** Bundles one policy file for the sandbox (from the cache when nothing that goes into it changed). */
export async function compilePolicyFile(file: string, opts: { cache?: string | false; hashes?: HashMemo } = {}): Promise<CompiledFile & { cached: boolean } | InputError> {
  const abs = resolve(file);
  let source: Buffer;
  try {
    source = await readFile(abs);
  } catch (err) {
    return { file, message: `cannot read policy: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  const dir = opts.cache === false ? undefined : (opts.cache ?? cacheDir());
  const entryPath = dir ? join(dir, 'policies', `${sha256(`${CACHE_FORMAT}\0${abs}\0${sha256(source)}`)}.json`) : undefined;
  const hit = entryPath ? await cached(entryPath, opts.hashes ?? new Map()) : undefined;
  if (hit !== undefined) return { file, code: hit, cached: true };

  const { build } = await import('esbuild');
  let result;
  try {
    result = await build({
      stdin: {
        contents: `import * as policyModule from ${JSON.stringify(abs)};\nimport { makeGuest } from ${JSON.stringify(GUEST)};\nexport const guest = makeGuest(policyModule);\n`,
        resolveDir: dirname(abs),
        sourcefile: ENTRY_NAME,
        loader: 'js',
      },
      bundle: true,
      platform: 'browser',
      format: 'cjs',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
      legalComments: 'none',
      minify: true,
      plugins: [sandboxResolution],
    });
  } catch (err) {
    const e = err as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] };
    const first = e.errors?.find((x) => x.location) ?? e.errors?.[0];
    return {
      file,
      line: first?.location?.line,
      column: first?.location ? first.location.column + 1 : undefined,
      message: `cannot compile policy: ${first?.text ?? String(err)}`,
    };
  }
  const code = result.outputFiles[0].text;
  if (entryPath) {
    try {
      const inputs: Record<string, string> = {};
      for (const input of Object.keys(result.metafile.inputs)) {
        if (input.startsWith('<') || input.endsWith(ENTRY_NAME)) continue; // the generated entry is not a file
        const p = resolve(input);
        inputs[p] = sha256(await readFile(p));
      }
      const entry: CacheEntry = { format: CACHE_FORMAT, inputs, code };
      await mkdir(dirname(entryPath), { recursive: true });
      const tmp = `${entryPath}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(entry));
      await rename(tmp, entryPath);
    } catch {
      // An unwritable cache only means the next run compiles again.
    }
  }
  return { file, code, cached: false };
}
