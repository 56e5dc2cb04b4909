// Validates objects against a CustomResourceDefinition's openAPIV3Schema, as the API server would take them with
// strict field validation (kubectl's default): every field the schema does not name is an error (the API server
// would otherwise prune it silently), types, enums and required fields as published.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse } from 'yaml';

type Schema = Record<string, any>;
const CRDS = join(import.meta.dirname, '..', 'fixtures', 'crds');

/** Object schemas with named properties accept no other key (structural-schema pruning made visible). */
function strict(s: Schema): Schema {
  if (!s || typeof s !== 'object') return s;
  const out: Schema = Array.isArray(s) ? s.map(strict) : Object.fromEntries(Object.entries(s).map(([k, v]) => [k, strict(v)]));
  if (!Array.isArray(s) && s.type === 'object' && s.properties && s.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

export interface CrdValidator {
  group: string;
  kind: string;
  version: string;
  namespaced: boolean;
  /** Problems of one object: schema errors, a wrong apiVersion/kind, or a namespace where the scope has none. */
  problems(obj: Record<string, any>): string[];
}

export function loadCrd(file: string): CrdValidator {
  const crd = parse(readFileSync(join(CRDS, file), 'utf8'));
  const v = crd.spec.versions[0];
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const validate = ajv.compile(strict(v.schema.openAPIV3Schema));
  const { group, names, scope } = crd.spec;
  const namespaced = scope === 'Namespaced';
  return {
    group,
    kind: names.kind,
    version: v.name,
    namespaced,
    problems(obj) {
      const out: string[] = [];
      if (obj.apiVersion !== `${group}/${v.name}`) out.push(`apiVersion ${obj.apiVersion}, expected ${group}/${v.name}`);
      if (obj.kind !== names.kind) out.push(`kind ${obj.kind}, expected ${names.kind}`);
      if (typeof obj.metadata?.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(obj.metadata.name)) out.push(`metadata.name "${obj.metadata?.name}" is not a DNS subdomain`);
      if (namespaced !== (typeof obj.metadata?.namespace === 'string')) out.push(namespaced ? 'a namespaced report without metadata.namespace' : 'a cluster report with metadata.namespace');
      if (!validate(obj)) out.push(...(validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`));
      return out;
    },
  };
}
