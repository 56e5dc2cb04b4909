import { isPlainObject } from '../model/index.js';

/**
 * Parameter schemas. A policy declares each parameter with its type and default (`param.oneOf(LEVELS, 'baseline')`,
 * `param.strings([])`); the engine checks the values a cluster context gives (fleet.yaml, `--param`, the webhook's
 * config) once, when it binds the policy to that context, so a wrong type is an error naming the policy and the
 * parameter before anything is judged, not a policy error on every object. A parameter given as a plain default
 * (`params: { euRegions: ['europe'] }`) keeps working and is not checked: its policy reads it as it wants.
 *
 * A schema is plain data (it crosses into and out of the policy sandbox); `$param` marks it as one.
 */

export type ParamType = 'string' | 'number' | 'integer' | 'boolean' | 'string[]' | 'array' | 'object';

export interface ParamSchema {
  readonly $param: ParamType;
  /** Allowed values (strings only). */
  readonly oneOf?: readonly string[];
  readonly description?: string;
}

/** A declared parameter: its schema and its default, typed `T`. */
export interface ParamSpec<T> extends ParamSchema {
  readonly default: T;
}

/** The value type of a parameter declaration: a spec's `T`, or the plain default's own type. */
export type ParamValue<V> = V extends ParamSpec<infer T> ? T : V;
/** What `ctx.params` holds for a policy's `params` declarations. */
export type ParamValues<P> = { readonly [K in keyof P]: ParamValue<P[K]> };

const spec = <T>(type: ParamType, def: T, description?: string, oneOf?: readonly string[]): ParamSpec<T> =>
  Object.freeze({ $param: type, default: def, ...(oneOf ? { oneOf: Object.freeze([...oneOf]) } : {}), ...(description ? { description } : {}) });

/** Builders of parameter declarations, for `params: { name: param.x(default) }`. */
export const param = {
  string: (def: string, description?: string) => spec<string>('string', def, description),
  /** One of a fixed set of strings: `param.oneOf(['baseline', 'restricted'] as const, 'baseline')`. */
  oneOf: <const T extends string>(values: readonly T[], def: T, description?: string) => spec<T>('string', def, description, values),
  number: (def: number, description?: string) => spec<number>('number', def, description),
  integer: (def: number, description?: string) => spec<number>('integer', def, description),
  boolean: (def: boolean, description?: string) => spec<boolean>('boolean', def, description),
  strings: (def: readonly string[], description?: string) => spec<string[]>('string[]', [...def], description),
  array: <T>(def: readonly T[], description?: string) => spec<T[]>('array', [...def], description),
  object: <T extends Record<string, unknown>>(def: T, description?: string) => spec<T>('object', def, description),
};

const TYPES: readonly ParamType[] = ['string', 'number', 'integer', 'boolean', 'string[]', 'array', 'object'];

export function isParamSpec(v: unknown): v is ParamSpec<unknown> {
  return isPlainObject(v) && typeof v.$param === 'string' && 'default' in v;
}

/** Splits a policy's `params` declarations into defaults (what the engine merges) and schemas (what it checks). */
export function splitParams(params: Record<string, unknown> | undefined): { defaults: Record<string, unknown>; schemas: Record<string, ParamSchema> } {
  const defaults: Record<string, unknown> = {};
  const schemas: Record<string, ParamSchema> = {};
  for (const [name, v] of Object.entries(params ?? {})) {
    if (!isParamSpec(v)) {
      defaults[name] = v;
      continue;
    }
    const { default: def, ...schema } = v;
    defaults[name] = def;
    schemas[name] = schema;
  }
  return { defaults, schemas };
}

/** The declarations back from defaults and schemas (a policy's definition as data, out of the sandbox). */
export function joinParams(defaults: Record<string, unknown>, schemas: Readonly<Record<string, ParamSchema>> | undefined): Record<string, unknown> {
  if (!schemas) return defaults;
  const out: Record<string, unknown> = { ...defaults };
  for (const [name, schema] of Object.entries(schemas)) out[name] = { ...schema, default: defaults[name] };
  return out;
}

/** What is wrong with a parameter declaration (a definition error), or undefined. */
export function schemaProblem(name: string, schema: ParamSchema, def: unknown): string | undefined {
  if (!TYPES.includes(schema.$param)) return `parameter "${name}": unknown type ${JSON.stringify(schema.$param)}; types: ${TYPES.join(', ')}`;
  const wrong = valueProblem(schema, def);
  return wrong ? `parameter "${name}": its default ${wrong}` : undefined;
}

const show = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a map' : `${typeof v} ${JSON.stringify(v)}`);

/** Why `value` does not fit `schema` ("is a number 1.3, not a string"), or undefined when it fits. */
export function valueProblem(schema: ParamSchema, value: unknown): string | undefined {
  const t = schema.$param;
  let ok: boolean;
  switch (t) {
    case 'string':
      ok = typeof value === 'string';
      break;
    case 'number':
      ok = typeof value === 'number' && Number.isFinite(value);
      break;
    case 'integer':
      ok = Number.isInteger(value);
      break;
    case 'boolean':
      ok = typeof value === 'boolean';
      break;
    case 'string[]':
      ok = Array.isArray(value) && value.every((e) => typeof e === 'string');
      break;
    case 'array':
      ok = Array.isArray(value);
      break;
    case 'object':
      ok = isPlainObject(value);
      break;
  }
  const want = t === 'string[]' ? 'a list of strings' : t === 'array' ? 'a list' : t === 'object' ? 'a map' : `${t === 'integer' ? 'an' : 'a'} ${t}`;
  if (!ok) return `is ${show(value)}, not ${want}`;
  if (schema.oneOf && !schema.oneOf.includes(value as string)) return `is ${JSON.stringify(value)}, not one of ${schema.oneOf.join(', ')}`;
  return undefined;
}

export class ParameterError extends Error {
  override name = 'ParameterError';
}

/**
 * The parameters a policy runs with, checked against its schemas: one message per wrong parameter, naming the
 * policy and the parameter (`policy pss.baseline.privileged: parameter "defaultEnforce" is "strict", not one of …`).
 */
export function parameterTypeProblems(policy: { id: string; paramSchemas?: Readonly<Record<string, ParamSchema>> }, values: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [name, schema] of Object.entries(policy.paramSchemas ?? {})) {
    const wrong = valueProblem(schema, values[name]);
    if (wrong) out.push(`policy ${policy.id}: parameter "${name}" ${wrong}`);
  }
  return out;
}
