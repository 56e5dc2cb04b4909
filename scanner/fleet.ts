import { Ajv, type ErrorObject } from 'ajv';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { Action } from '../src/index.js';
import { undeclaredParameters, type Policy } from '../src/authoring/index.js';

/**
 * The fleet file (`fleet.yaml`): the config repo, its layers (applied in order, chosen by cluster labels) and the
 * clusters with their labels and where their live state comes from. Validated against FLEET_SCHEMA with ajv; every
 * mistake is reported with its line and column in the file.
 */

export type LabelConditions = Record<string, string | string[]>;

export interface FleetLayer {
  /** As written (relative to the repo). */
  path: string;
  /** Absolute path. */
  dir: string;
  when?: LabelConditions;
}

export type ClusterSourceSpec = { snapshot: string } | { kubeconfig: string; context?: string };

export interface FleetCluster {
  name: string;
  labels: Record<string, string>;
  /** Paths already resolved (snapshot against the fleet file's folder, `~` expanded in kubeconfig). */
  source: ClusterSourceSpec;
  parameters?: Record<string, unknown>;
  actions?: Record<string, Action>;
  /** Position in the fleet file (reports keep fleet order, also across shards). */
  index: number;
}

export interface FleetOverride {
  when?: LabelConditions;
  parameters?: Record<string, unknown>;
  actions?: Record<string, Action>;
}

export interface Fleet {
  file: string;
  repo: string;
  layers: FleetLayer[];
  clusters: FleetCluster[];
  /** Kinds (`Kind` or `group/Kind`) the repo owns: live objects of these kinds that the repo does not declare are `unmanaged`. */
  owned: string[];
  parameters: Record<string, unknown>;
  actions: Record<string, Action>;
  /** Parameters and actions per cohort/label set, applied in order after the fleet-wide ones and before the cluster's own. */
  overrides: FleetOverride[];
  /** Budget for reading one live cluster. */
  timeoutSeconds: number;
  /** Kubeconfig credential plugins the operator allows to run (scanner/live/kubeconfig.ts); empty: none. */
  allowExecPlugins: string[];
}

export interface FleetError {
  file: string;
  line?: number;
  column?: number;
  message: string;
}

export class FleetFileError extends Error {
  constructor(readonly errors: FleetError[]) {
    super(errors.map(formatFleetError).join('\n'));
    this.name = 'FleetFileError';
  }
}

export function formatFleetError(e: FleetError): string {
  return `${e.file}${e.line ? `:${e.line}${e.column ? `:${e.column}` : ''}` : ''}: ${e.message}`;
}

const conditions = {
  type: 'object',
  additionalProperties: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] },
};
const actions = { type: 'object', additionalProperties: { enum: ['deny', 'warn', 'audit'] } };
const parameters = { type: 'object' };

export const FLEET_SCHEMA = {
  type: 'object',
  required: ['repo', 'layers', 'clusters'],
  additionalProperties: false,
  properties: {
    repo: { type: 'string', minLength: 1 },
    owned: { type: 'array', items: { type: 'string', pattern: '^([a-z0-9.-]+/)?[A-Z][A-Za-z0-9]*$' } },
    parameters,
    actions,
    timeoutSeconds: { type: 'number', exclusiveMinimum: 0 },
    allowExecPlugins: { type: 'array', items: { type: 'string', minLength: 1 } },
    overrides: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, properties: { when: conditions, parameters, actions } },
    },
    layers: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['path'],
        additionalProperties: false,
        properties: { path: { type: 'string', minLength: 1 }, when: conditions },
      },
    },
    clusters: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'source'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$' },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          parameters,
          actions,
          source: {
            oneOf: [
              {
                type: 'object',
                required: ['snapshot'],
                additionalProperties: false,
                properties: { snapshot: { type: 'string', minLength: 1 } },
              },
              {
                type: 'object',
                required: ['kubeconfig'],
                additionalProperties: false,
                properties: { kubeconfig: { type: 'string', minLength: 1 }, context: { type: 'string', minLength: 1 } },
              },
            ],
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
const validate = ajv.compile(FLEET_SCHEMA);

function segmentsOf(instancePath: string): (string | number)[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function where(segments: (string | number)[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out || '(top level)';
}

function describe(e: ErrorObject): string {
  const at = where(segmentsOf(e.instancePath));
  switch (e.keyword) {
    case 'required':
      return `${at}: missing required field "${(e.params as { missingProperty: string }).missingProperty}"`;
    case 'additionalProperties':
      return `${at}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    case 'enum':
      return `${at}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    case 'oneOf':
      return `${at}: must be either { snapshot: DIR } or { kubeconfig: FILE, context: NAME }`;
    default:
      return `${at}: ${e.message ?? 'is invalid'}`;
  }
}

/** Position of the node at `segments` (or of its closest existing parent). */
function locate(doc: Document, lc: LineCounter, segments: (string | number)[]): { line?: number; column?: number } {
  for (let n = segments.length; n >= 0; n--) {
    const node = doc.getIn(segments.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = lc.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}

function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

/** The fleet file as its schema admits it (before paths are resolved and names checked). */
interface RawFleet {
  repo: string;
  owned?: string[];
  parameters?: Record<string, unknown>;
  actions?: Record<string, Action>;
  overrides?: FleetOverride[];
  timeoutSeconds?: number;
  allowExecPlugins?: string[];
  layers: { path: string; when?: LabelConditions }[];
  clusters: {
    name: string;
    labels?: Record<string, string>;
    source: { snapshot?: string; kubeconfig?: string; context?: string };
    parameters?: Record<string, unknown>;
    actions?: Record<string, Action>;
  }[];
}

/** Where an error at a path of the document is: the file and its line and column. */
type Locator = (segs: (string | number)[]) => Pick<FleetError, 'file' | 'line' | 'column'>;

/**
 * Parses and validates fleet text; throws FleetFileError listing every problem with its location.
 *
 * A valid file is read in batches of clusters (parseInBatches: a `yaml` Document keeps every node with its
 * position, ~10 times the text; the file of a 10,000-cluster fleet whole was ~90 MB of heap at the scan's start,
 * issue #17). Whenever that does not apply or finds anything wrong, the whole file is parsed again as one
 * Document with its positions (parseLocated), so that errors and values are those of one whole parse.
 */
export function parseFleet(text: string, file: string): Fleet {
  const value = parseInBatches(text);
  if (value !== undefined && validate(value)) {
    try {
      return fleetOf(value as RawFleet, file, () => ({ file }));
    } catch (err) {
      if (!(err instanceof FleetFileError)) throw err;
    }
  }
  return parseLocated(text, file);
}

/** The whole file as one `yaml` Document with its positions: every mistake is reported with its line and column. */
function parseLocated(text: string, file: string): Fleet {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    throw new FleetFileError(
      doc.errors.map((e) => {
        const pos = lc.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, message: e.message.split('\n')[0] };
      }),
    );
  }
  const at: Locator = (segs) => ({ file, ...locate(doc, lc, segs) });
  const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (!validate(value)) throw new FleetFileError(schemaErrors(at));
  return fleetOf(value as RawFleet, file, at);
}

/** The fleet of a value its schema admits; throws FleetFileError for cluster names and layer folders used twice. */
function fleetOf(raw: RawFleet, file: string, at: Locator): Fleet {
  const repo = resolve(dirname(resolve(file)), expandHome(raw.repo));
  const errors: FleetError[] = [];
  const clusters = clustersOf(raw, file, at, errors);
  const layers = layersOf(raw, repo, at, errors);
  if (errors.length) throw new FleetFileError(errors);
  return {
    file,
    repo,
    layers,
    clusters,
    owned: raw.owned ?? [],
    parameters: raw.parameters ?? {},
    actions: raw.actions ?? {},
    overrides: raw.overrides ?? [],
    timeoutSeconds: raw.timeoutSeconds ?? 60,
    allowExecPlugins: raw.allowExecPlugins ?? [],
  };
}

/** Clusters parsed together by parseInBatches (each batch's Document is dropped before the next is parsed). */
export const FLEET_PARSE_BATCH = 256;

/**
 * The fleet file's value, its top-level `clusters:` block sequence parsed `batch` entries at a time and the rest of
 * the file on its own; `undefined` when the file is not laid out so (one document, a top-level `clusters:` line
 * followed by its entries, each starting with `- ` at the same indentation) or when any part has an error or a
 * warning: the caller then parses the whole file (an alias to an anchor of another batch is such an error).
 *
 * Splitting there gives the values of the whole parse: an entry starts with `- ` at the sequence's indentation,
 * which also ends any block scalar or mapping of the entry before; a split inside a quoted scalar or a flow
 * collection leaves a batch unterminated (an error). The rest of the file must read `clusters:` as null.
 */
export function parseInBatches(text: string, batch = FLEET_PARSE_BATCH): Record<string, unknown> | undefined {
  const layout = clustersLayout(text);
  if (!layout) return undefined;
  const head = plainValue(text.slice(0, layout.start) + text.slice(layout.end));
  if (!head || typeof head !== 'object' || Array.isArray(head) || (head as Record<string, unknown>).clusters !== null) return undefined;
  const clusters: unknown[] = [];
  for (let b = 0; b < layout.entries.length; b += batch) {
    const to = b + batch < layout.entries.length ? layout.entries[b + batch] : layout.end;
    const part = plainValue(text.slice(layout.entries[b], to));
    if (!Array.isArray(part) || part.length !== Math.min(batch, layout.entries.length - b)) return undefined;
    for (const c of part) clusters.push(c);
  }
  (head as Record<string, unknown>).clusters = clusters;
  return head as Record<string, unknown>;
}

/** One document's plain value, or `undefined` when it has errors or warnings (or an alias cannot be resolved). */
function plainValue(text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length || doc.warnings.length) return undefined;
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch {
    return undefined;
  }
}

/**
 * Where the top-level `clusters:` block sequence's text is: from the line after `clusters:` (`start`) to the next
 * top-level line (`end`), with the offset of each entry's `- `. `undefined` for any other layout (directives or
 * document markers, `clusters:` twice or with a value on its line, a line of the sequence indented less than it or
 * at its indentation without starting an entry).
 */
function clustersLayout(text: string): { start: number; end: number; entries: number[] } | undefined {
  if (/^(%|---|\.\.\.)/m.test(text)) return undefined;
  const keys = [...text.matchAll(/^clusters:[ \t]*(#.*)?\r?$/gm)];
  if (keys.length !== 1) return undefined;
  const nl = text.indexOf('\n', keys[0].index);
  if (nl < 0) return undefined;
  const start = nl + 1;
  const entries: number[] = [];
  let indent = -1;
  let end = text.length;
  for (let at = start; at < text.length; ) {
    const next = text.indexOf('\n', at);
    const lineEnd = next < 0 ? text.length : next + 1;
    const line = text.slice(at, lineEnd).replace(/\r?\n$/, '');
    const lead = line.length - line.trimStart().length;
    const content = line.slice(lead);
    const entry = content === '-' || content.startsWith('- ');
    if (content === '' || content.startsWith('#')) {
      // blank or a comment: part of whichever entry it is in
    } else if (line.slice(0, lead).includes('\t')) {
      return undefined; // a tab in the indentation (an error of the whole parse)
    } else if (indent < 0 && !entry) {
      return undefined; // `clusters:` followed by no block sequence
    } else if (indent < 0 || (lead === indent && entry)) {
      indent = lead;
      entries.push(at);
    } else if (lead === 0) {
      end = at; // the next top-level key
      break;
    } else if (lead <= indent) {
      return undefined;
    }
    at = lineEnd;
  }
  return entries.length ? { start, end, entries } : undefined;
}

/** The schema's errors, located, once each. */
function schemaErrors(at: Locator): FleetError[] {
  // oneOf reports its branches' errors too; keep the oneOf summary and drop the noise under the same path.
  const errs = validate.errors ?? [];
  const oneOfPaths = new Set(errs.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const kept = errs.filter((e) => e.keyword === 'oneOf' || ![...oneOfPaths].some((p) => e.instancePath.startsWith(p)));
  const seen = new Set<string>();
  const out: FleetError[] = [];
  for (const e of kept) {
    let segs = segmentsOf(e.instancePath);
    if (e.keyword === 'additionalProperties') segs = [...segs, (e.params as { additionalProperty: string }).additionalProperty];
    const msg = describe(e);
    if (seen.has(msg)) continue;
    seen.add(msg);
    out.push({ ...at(segs), message: msg });
  }
  return out;
}

/** The clusters, their sources resolved against the fleet file's folder; a name used twice is an error. */
function clustersOf(raw: RawFleet, file: string, at: Locator, errors: FleetError[]): FleetCluster[] {
  const base = dirname(resolve(file));
  const names = new Map<string, number>();
  return raw.clusters.map((c, i) => {
    const prev = names.get(c.name);
    if (prev !== undefined) errors.push({ ...at(['clusters', i, 'name']), message: `clusters[${i}].name: "${c.name}" is already used by clusters[${prev}]` });
    else names.set(c.name, i);
    const source: ClusterSourceSpec =
      c.source.snapshot !== undefined
        ? { snapshot: resolve(base, expandHome(c.source.snapshot)) }
        : { kubeconfig: resolve(base, expandHome(c.source.kubeconfig!)), ...(c.source.context ? { context: c.source.context } : {}) };
    return { name: c.name, labels: c.labels ?? {}, source, parameters: c.parameters, actions: c.actions, index: i };
  });
}

/** The layers, their folders resolved against the repo; a folder listed twice is an error. */
function layersOf(raw: RawFleet, repo: string, at: Locator, errors: FleetError[]): Fleet['layers'] {
  const layerPaths = new Map<string, number>();
  return raw.layers.map((l, i) => {
    const dir = isAbsolute(l.path) ? l.path : resolve(repo, l.path);
    if (layerPaths.has(dir)) errors.push({ ...at(['layers', i, 'path']), message: `layers[${i}].path: "${l.path}" is already layers[${layerPaths.get(dir)}]` });
    layerPaths.set(dir, i);
    return { path: l.path, dir, ...(l.when ? { when: l.when } : {}) };
  });
}

export async function loadFleet(file: string): Promise<Fleet> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FleetFileError([{ file, message: `cannot read fleet file: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
  return parseFleet(text, file);
}

/** Parameters the fleet file sets (fleet-wide, per override, per cluster) that no loaded policy declares. */
export function undeclaredFleetParameters(fleet: Fleet, policies: readonly Policy[]): string[] {
  return [
    ...undeclaredParameters(fleet.parameters, policies, `${fleet.file}: parameters`),
    ...fleet.overrides.flatMap((o, i) => undeclaredParameters(o.parameters, policies, `${fleet.file}: overrides[${i}].parameters`)),
    ...fleet.clusters.flatMap((c) => undeclaredParameters(c.parameters, policies, `${fleet.file}: clusters[${c.index}].parameters`)),
  ];
}
