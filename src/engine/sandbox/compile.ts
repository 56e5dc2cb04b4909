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
import * as policyApi from './policy-api.js';

/**
 * A user's policy file, bundled by esbuild into one script for the isolate: the file and what it imports (local
 * files and pure-JS packages). `fleetgate` is not bundled into it: it names the one shared, frozen copy of the
 * authoring surface (src/engine/sandbox/policy-api) that the isolate's runtime hands every file, so the isolate
 * holds one copy of fleetgate's code however many files there are (`compileRuntime` bundles that copy). Importing
 * a Node built-in is a compile error: nothing in the isolate could provide it. Each bundle comes with its source
 * map, so an error thrown in a policy names the line of the user's file.
 *
 * Bundles are cached by content: the key is the file's path and bytes, and an entry is used only when every file
 * that went into it still has the same SHA-256, so a warm run (`lint` in CI, a restarted webhook) loads no esbuild.
 * The cache lives in $FLEETGATE_CACHE_DIR, else $XDG_CACHE_HOME/fleetgate, else ~/.cache/fleetgate; a cache that
 * cannot be written costs a compile, never an error.
 */

/** The names `import ... from 'fleetgate'` provides, bound to the shared API object the bundle's wrapper receives. */
const API_NAMES = Object.keys(policyApi).sort();
/** The bundle format, and the API names it binds (a cached bundle must not ask for a name that is gone). */
const CACHE_FORMAT = `fleetgate-policy-bundle-3:${API_NAMES.join(',')}`;
/** The free variable a user bundle reads the shared API from (a parameter of the wrapper, see host.ts). */
export const API_PARAM = '__fleetgate';
const here = (name: string) => {
  const js = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  return existsSync(js) ? js : js.replace(/\.js$/, '.ts');
};
const RUNTIME = here('runtime');
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
  /** Source map of `code`, sources as absolute paths. */
  map?: string;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Hashes of files already read while loading one policy set: the inputs fleetgate adds are shared by every bundle. */
export type HashMemo = Map<string, Promise<string>>;

async function cached(path: string, memo: HashMemo): Promise<CacheEntry | undefined> {
  const hashOf = (file: string) => {
    let h = memo.get(file);
    if (!h) memo.set(file, (h = readFile(file).then(sha256)));
    return h;
  };
  try {
    const entry = JSON.parse(await readFile(path, 'utf8')) as CacheEntry;
    if (entry.format !== CACHE_FORMAT) return undefined;
    const same = await Promise.all(Object.entries(entry.inputs).map(async ([file, hash]) => (await hashOf(file)) === hash));
    return same.every(Boolean) ? entry : undefined;
  } catch {
    return undefined;
  }
}

const sandboxResolution: Plugin = {
  name: 'fleetgate-sandbox',
  setup(b) {
    b.onResolve({ filter: /^fleetgate$/ }, () => ({ path: 'fleetgate', namespace: 'fleetgate-shared' }));
    b.onLoad({ filter: /.*/, namespace: 'fleetgate-shared' }, () => ({
      contents: `export const { ${API_NAMES.join(', ')} } = ${API_PARAM};\n`,
      loader: 'js',
    }));
    b.onResolve({ filter: /.*/ }, (args) => {
      if (!BUILTINS.has(args.path)) return undefined;
      return {
        errors: [{ text: `policies cannot import "${args.path}": they run without Node's built-in modules (no file system, network, processes or environment)` }],
      };
    });
  },
};

type Bundled = { code: string; map?: string; cached: boolean } | { error: Omit<InputError, 'file'> };

/** Bundles `entry` (from the cache when nothing that went into it changed); `key` names the cache entry. */
async function bundle(entry: string, key: string, opts: { cache?: string | false; hashes?: HashMemo; sourcemap: boolean; subdir: string }): Promise<Bundled> {
  const dir = opts.cache === false ? undefined : (opts.cache ?? cacheDir());
  const entryPath = dir ? join(dir, opts.subdir, `${sha256(`${CACHE_FORMAT}\0${key}`)}.json`) : undefined;
  const hit = entryPath ? await cached(entryPath, opts.hashes ?? new Map()) : undefined;
  if (hit !== undefined) return { code: hit.code, map: hit.map, cached: true };

  const { build } = await import('esbuild');
  const outfile = join(dirname(entry), 'fleetgate-bundle.js'); // never written: names the source map's paths
  let result;
  try {
    result = await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'browser',
      format: 'cjs',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
      legalComments: 'none',
      minify: true,
      sourcemap: opts.sourcemap ? 'external' : false,
      sourcesContent: false,
      plugins: [sandboxResolution],
    });
  } catch (err) {
    const e = err as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] };
    const first = e.errors?.find((x) => x.location) ?? e.errors?.[0];
    return {
      error: {
        line: first?.location?.line,
        column: first?.location ? first.location.column + 1 : undefined,
        message: `cannot compile policy: ${first?.text ?? String(err)}`,
      },
    };
  }
  const code = result.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const map = absoluteSources(result.outputFiles.find((f) => f.path.endsWith('.map'))?.text, outfile);
  if (entryPath) await store(entryPath, Object.keys(result.metafile.inputs), code, map);
  return { code, map, cached: false };
}

/** A source map with absolute sources: a cached bundle may be used from another working directory. */
function absoluteSources(rawMap: string | undefined, outfile: string): string | undefined {
  if (!rawMap) return undefined;
  const m = JSON.parse(rawMap) as { sources: string[] };
  m.sources = m.sources.map((src) => (src.includes(':') && !src.startsWith('/') ? src : resolve(dirname(outfile), src)));
  return JSON.stringify(m);
}

/** Writes a cache entry (atomically), keyed by the hashes of the files that went into the bundle. */
async function store(entryPath: string, metaInputs: readonly string[], code: string, map: string | undefined): Promise<void> {
  try {
    const inputs: Record<string, string> = {};
    for (const input of metaInputs) {
      if (input.startsWith('fleetgate-shared:') || input.startsWith('<')) continue; // generated, not a file
      const p = resolve(input);
      inputs[p] = sha256(await readFile(p));
    }
    const cacheEntry: CacheEntry = { format: CACHE_FORMAT, inputs, code, ...(map ? { map } : {}) };
    await mkdir(dirname(entryPath), { recursive: true });
    const tmp = `${entryPath}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(cacheEntry));
    await rename(tmp, entryPath);
  } catch {
    // An unwritable cache only means the next run compiles again.
  }
}

/** Bundles one policy file for the sandbox (from the cache when nothing that goes into it changed). */
export async function compilePolicyFile(file: string, opts: { cache?: string | false; hashes?: HashMemo } = {}): Promise<CompiledFile & { cached: boolean } | InputError> {
  const abs = resolve(file);
  let source: Buffer;
  try {
    source = await readFile(abs);
  } catch (err) {
    return { file, message: `cannot read policy: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  const out = await bundle(abs, `${abs}\0${sha256(source)}`, { ...opts, sourcemap: true, subdir: 'policies' });
  if ('error' in out) return { file, ...out.error };
  return { file, code: out.code, map: out.map, cached: out.cached };
}

/** The shared runtime every policy file in an isolate uses (src/engine/sandbox/runtime.ts), bundled once and cached. */
export async function compileRuntime(opts: { cache?: string | false; hashes?: HashMemo } = {}): Promise<string> {
  const out = await bundle(RUNTIME, RUNTIME, { ...opts, sourcemap: false, subdir: 'runtime' });
  if ('error' in out) throw new Error(`cannot bundle fleetgate's sandbox runtime: ${out.error.message}`);
  return out.code;
}
