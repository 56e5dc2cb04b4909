// Offline checks of rendered manifests against the Kubernetes API schemas — no API server, no network.
// Two generated views of the upstream OpenAPI spec, each catching what the other cannot:
//  - kubernetes-models (JSON-schema validators compiled from the OpenAPI spec): field types, required fields,
//    enums and formats, as the API server's validation would refuse them;
//  - @kubernetes/client-node's model type maps (one per API type): unknown fields, as the API server's strict
//    field validation (kubectl's default `--validate=strict`) reports them — a misspelt or misplaced key.
// Why not kubectl: `kubectl apply --dry-run=client --validate=strict` fetches the OpenAPI document from an API
// server, and there is none in CI; kubeconform-style schema bundles are not on npm. Both packages here are.
// Custom resources the chart creates (cert-manager, prometheus-operator) are checked only for a known
// apiVersion/kind and a spec: their CRD schemas are not shipped by either package.
import * as k8s from '@kubernetes/client-node';

type Obj = Record<string, any>;

/** Custom resources the chart may render, with the apiVersion their CRDs serve. */
const CUSTOM: Record<string, string> = {
  Certificate: 'cert-manager.io/v1',
  Issuer: 'cert-manager.io/v1',
  ServiceMonitor: 'monitoring.coreos.com/v1',
  PrometheusRule: 'monitoring.coreos.com/v1',
};

/** kubernetes-models' module for an apiVersion and kind: `apps/v1` → `kubernetes-models/apps/v1/Deployment`. */
function modelPath(apiVersion: string, kind: string): string {
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/** client-node's model class name: `networking.k8s.io/v1` NetworkPolicy → V1NetworkPolicy. */
function typeMapRoot(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop()!;
  return version[0].toUpperCase() + version.slice(1) + kind;
}

interface Attr { baseName: string; type: string }
const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attr[] }>;

/** Fields that the API type does not have, as JSON paths. */
function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1], `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) unknownFields(v, map[1], `${path}.${k}`, out);
    return;
  }
  const attrs = models[type]?.getAttributeTypeMap?.();
  if (!attrs || typeof value !== 'object' || Array.isArray(value)) return; // a scalar, IntOrString, Quantity, any
  const byName = new Map(attrs.map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value as Obj)) {
    const t = byName.get(k);
    if (t === undefined) out.push(`${path}.${k}`);
    else unknownFields(v, t, `${path}.${k}`, out);
  }
}

/** Problems of one object, empty when the API server would accept it. */
export async function schemaProblems(obj: Obj): Promise<string[]> {
  const { apiVersion, kind } = obj;
  const name = `${kind}/${obj.metadata?.name}`;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return [`${name}: no apiVersion or kind`];
  if (CUSTOM[kind]) {
    if (CUSTOM[kind] !== apiVersion) return [`${name}: ${kind} is served as ${CUSTOM[kind]}, not ${apiVersion}`];
    return obj.spec && typeof obj.spec === 'object' ? [] : [`${name}: no spec`];
  }
  let Model: new (o: Obj) => { validate(): void };
  try {
    const mod = await import(modelPath(apiVersion, kind));
    Model = mod[kind];
  } catch {
    return [`${name}: ${apiVersion} ${kind} is not a Kubernetes API type`];
  }
  const problems: string[] = [];
  try {
    new Model(obj).validate();
  } catch (err) {
    problems.push(`${name}: ${(err as Error).message}`);
  }
  const root = typeMapRoot(apiVersion, kind);
  if (!models[root]?.getAttributeTypeMap) problems.push(`${name}: no client-node model ${root}`);
  else {
    const unknown: string[] = [];
    unknownFields(obj, root, '$', unknown);
    for (const u of unknown) problems.push(`${name}: unknown field ${u}`);
  }
  return problems;
}
