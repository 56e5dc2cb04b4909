import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { LineCounter, parseAllDocuments, parseDocument } from 'yaml';
import type { Resource } from '../model/index.js';
import { isPlainObject } from '../model/index.js';
import type { InputError, KubeObject, PathSegments } from '../model/index.js';
import { KUBERNETES_YAML, jsonlessNumberCount } from './k8s-yaml.js';
import { FilePositions } from './source-map.js';

export const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface LoadOptions {
  /** Files larger than this are reported and skipped (default 64 MiB). */
  maxFileBytes?: number;
  /** YAML aliases expanded per document at most (alias bombs); default 100, as the `yaml` package. */
  maxAliasCount?: number;
  /** Keep positions for file:line:column (lint); the scanner turns it off for live snapshots. */
  positions?: boolean;
  /**
   * Read each file synchronously (loadPaths): for a reader with nothing else to do meanwhile — a scan's worker
   * thread reading a snapshot, whose event loop only waits for the file. A file read the asynchronous way is four
   * trips through libuv's pool (open, fstat, read, close) and their promises; ten small files per cluster made
   * those trips ~9% of a scan worker's time.
   */
  readSync?: boolean;
}

export interface LoadResult {
  resources: Resource[];
  errors: InputError[];
  files: number;
  /** Documents that are not Kubernetes objects (no apiVersion/kind: kustomization.yaml, Helm values, …). */
  skipped: number;
}

const DEFAULTS = { maxFileBytes: 64 * 1024 * 1024, maxAliasCount: 100, positions: true };

function emptyResult(): LoadResult {
  return { resources: [], errors: [], files: 0, skipped: 0 };
}

/** Lists manifest files under the given files and folders (recursively, sorted, skipping dot-folders and node_modules). */
export async function findManifestFiles(paths: readonly string[], errors: InputError[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string, explicit: boolean): Promise<void> => {
    let st;
    try {
      st = await stat(p);
    } catch (err) {
      errors.push({ file: p, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
      return;
    }
    if (st.isDirectory()) {
      const entries = (await readdir(p, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
      for (const e of entries) {
        if (e.name.startsWith('.') || e.name === 'node_modules') continue;
        if (e.isDirectory()) await walk(join(p, e.name), false);
        else if (e.isFile() && MANIFEST_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(join(p, e.name));
      }
    } else if (explicit || MANIFEST_EXTENSIONS.has(extname(p).toLowerCase())) out.push(p);
  };
  for (const p of paths) await walk(p, true);
  return out;
}

/** Loads every manifest under the paths as one list of resources; problems become errors, never exceptions. */
export async function loadPaths(paths: readonly string[], options: LoadOptions = {}): Promise<LoadResult> {
  const result = emptyResult();
  const files = await findManifestFiles(paths, result.errors);
  for (const file of files) {
    const one = options.readSync ? loadFileSync(file, options) : await loadFile(file, options);
    result.files++;
    result.skipped += one.skipped;
    for (const r of one.resources) result.resources.push(r);
    for (const e of one.errors) result.errors.push(e);
  }
  return result;
}

export async function loadFile(file: string, options: LoadOptions = {}): Promise<LoadResult> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULTS.maxFileBytes;
  try {
    // One open, one fstat: the size is checked before anything is read.
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      if (size > maxFileBytes) return tooLarge(file, size, maxFileBytes);
      return loadText(await handle.readFile('utf8'), file, options);
    } finally {
      await handle.close();
    }
  } catch (err) {
    return cannotRead(file, err);
  }
}

function tooLarge(file: string, size: number, maxFileBytes: number): LoadResult {
  return { ...emptyResult(), errors: [{ file, message: `file is ${size} bytes, over the limit of ${maxFileBytes} bytes; skipped` }] };
}

function cannotRead(file: string, err: unknown): LoadResult {
  return { ...emptyResult(), errors: [{ file, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }] };
}

/** loadFile without the event loop (LoadOptions.readSync): the same checks, results and errors. */
export function loadFileSync(file: string, options: LoadOptions = {}): LoadResult {
  const maxFileBytes = options.maxFileBytes ?? DEFAULTS.maxFileBytes;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const { size } = fstatSync(fd);
    if (size > maxFileBytes) return tooLarge(file, size, maxFileBytes);
    return loadText(readFileSync(fd, 'utf8'), file, options);
  } catch (err) {
    return cannotRead(file, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Parses the text of one file (YAML with any number of documents, or JSON). */
export function loadText(text: string, file: string, options: LoadOptions = {}): LoadResult {
  const opts = { ...DEFAULTS, ...options };
  if (text.length > opts.maxFileBytes)
    return { ...emptyResult(), errors: [{ file, message: `input is ${text.length} bytes, over the limit of ${opts.maxFileBytes} bytes; skipped` }] };
  if (file.toLowerCase().endsWith('.json')) {
    const json = loadJson(text, file, opts);
    if (json) return json;
  }
  return loadYaml(text, file, opts);
}

/** JSON fast path: JSON.parse, with positions found lazily (by a YAML parse of the same text) only when a finding asks. */
function loadJson(text: string, file: string, opts: typeof DEFAULTS): LoadResult | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined; // let the YAML parser report the error with its line
  }
  const result = emptyResult();
  result.files = 1;
  // Indexed on the first finding that asks (most JSON files have none), then the parsed document is dropped.
  let index: { positions: FilePositions; root: number } | undefined;
  const locator = (prefix: PathSegments) =>
    opts.positions
      ? (path: PathSegments) => {
          if (!index) {
            const lc = new LineCounter();
            const positions = new FilePositions(file);
            const root = positions.add(parseDocument(text, { ...KUBERNETES_YAML, lineCounter: lc }), value);
            positions.seal(lc);
            index = { positions, root };
          }
          return index.positions.locate(index.root, value, prefix, path);
        }
      : undefined;
  addObjects(value, file, 1, locator, result);
  return result;
}

function loadYaml(text: string, file: string, opts: typeof DEFAULTS): LoadResult {
  const result = emptyResult();
  result.files = 1;
  const lineCounter = new LineCounter();
  let docs;
  const jsonless = jsonlessNumberCount();
  try {
    docs = parseAllDocuments(text, { ...KUBERNETES_YAML, lineCounter, prettyErrors: false });
  } catch (err) {
    result.errors.push({ file, message: `cannot parse: ${(err as Error).message}` });
    return result;
  }
  const list = Array.isArray(docs) ? docs : [docs];
  const positions = opts.positions ? new FilePositions(file) : undefined;
  const faithfulJson = jsonlessNumberCount() === jsonless;
  for (const doc of list) {
    const startLine = lineCounter.linePos((doc.contents as { range?: number[] } | null)?.range?.[0] ?? doc.range[0]).line;
    if (doc.errors.length) {
      // One error per broken document: the parser's follow-on complaints about the same problem are noise.
      const e = doc.errors[0];
      const pos = lineCounter.linePos(e.pos[0]);
      // A repeated key is an error (kubectl refuses it too), but the document is still whole: it is linted with
      // the last value winning, so its findings are not lost. Any other error makes the document unusable.
      const usable = doc.errors.every((x) => x.code === 'DUPLICATE_KEY');
      const what = usable ? `(document starting at line ${startLine} linted with the last value of the key)` : `(document starting at line ${startLine} skipped)`;
      result.errors.push({ file, line: pos.line, column: pos.col, message: `${firstLine(e.message)} ${what}` });
      if (!usable) continue;
    }
    let value: unknown;
    try {
      let aliased = false;
      value = doc.toJS({ maxAliasCount: opts.maxAliasCount, onAnchor: (_v, count) => (aliased ||= count > 0) });
      if (faithfulJson && !aliased) value = compact(value);
    } catch (err) {
      result.errors.push({ file, line: startLine, column: 1, message: firstLine((err as Error).message) });
      continue;
    }
    if (value === null || value === undefined) continue; // empty document (a trailing `---`)
    // The document itself is not kept: its positions go into the file's compact index (see source-map.ts).
    const root = positions?.add(doc, value);
    const locator = (prefix: PathSegments) =>
      positions && root !== undefined ? (path: PathSegments) => positions.locate(root, value, prefix, path) : undefined;
    addObjects(value, file, startLine, locator, result);
  }
  positions?.seal(lineCounter);
  return result;
}

/**
 * The same value re-built by `JSON.parse`, which lays objects out exactly (no property slack, flat strings, shared
 * keys): a loaded object then costs ~0.7 KiB instead of ~1.7 KiB, and lint holds every object until its
 * cluster-scope policies have run (50,000 objects: 37 MB of heap instead of 87). Only where JSON carries the value
 * unchanged: no NaN, ±Infinity or -0 in the file, no aliases in the document (they share objects; a cycle cannot
 * be written).
 */
function compact(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? JSON.parse(JSON.stringify(value)) : value;
}

/** Adds one parsed document: an object, a `kind: List` (or `*List`) of items, or something that is not an object. */
function addObjects(
  value: unknown,
  file: string,
  line: number,
  locator: (prefix: PathSegments) => Resource['locate'],
  result: LoadResult,
): void {
  if (!isPlainObject(value)) {
    result.errors.push({ file, line, column: 1, message: 'document is not a mapping (expected a Kubernetes object)' });
    return;
  }
  if (typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) {
    value.items.forEach((item, i) => {
      if (isKubeObject(item)) result.resources.push({ object: item, file, locate: locator(['items', i]) });
      else result.skipped++;
    });
    return;
  }
  if (!isKubeObject(value)) {
    result.skipped++;
    return;
  }
  result.resources.push({ object: value, file, locate: locator([]) });
}

function isKubeObject(v: unknown): v is KubeObject {
  return isPlainObject(v) && typeof v.kind === 'string' && typeof v.apiVersion === 'string';
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
