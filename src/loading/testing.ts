import { dirname, resolve } from 'node:path';
import { ParameterError, undeclaredParameters, unknownKeys, type Example, type FleetExample, type Params, type Policy } from '../authoring/index.js';
import { evaluateFleet, inProcessEvaluator, sandboxOf } from '../engine/index.js';
import type { Resource } from '../model/index.js';
import { loadPaths } from './manifests.js';
import { isPlainObject, nameOf, pushAll, refOf } from '../model/index.js';
import type { Finding, InputError, KubeObject, Operation } from '../model/index.js';

/**
 * Tests as data: every policy's own pass/fail examples, and users' PolicyTest files. Used by `fleetgate test`
 * and by the tap suite, so both judge examples the same way.
 */

export type Expectation = 'pass' | 'fail';

export interface CaseResult {
  policy: string;
  expect: Expectation;
  name: string;
  ok: boolean;
  /** What differed, when not ok. */
  detail?: string;
  findings: Finding[];
  file?: string;
}

interface Case {
  name: string;
  expect: Expectation;
  resources: Resource[];
  clusterLabels?: Record<string, string>;
  params?: Params;
  operation?: Operation;
  file?: string;
}

function exampleCase(e: Example, expect: Expectation, index: number): Case {
  if (isPlainObject(e) && Array.isArray((e as { objects?: unknown }).objects)) {
    const set = e as Extract<Example, { objects: KubeObject[] }>;
    return {
      name: set.name ?? `${expect} #${index + 1}`,
      expect,
      resources: set.objects.map((object) => ({ object })),
      clusterLabels: set.clusterLabels,
      params: set.params,
      operation: set.operation,
    };
  }
  const obj = e as KubeObject;
  return { name: `${expect} #${index + 1} (${obj.kind ?? '?'} ${nameOf(obj)})`, expect, resources: [{ object: obj }] };
}

/** The findings of one policy on one case: in this thread for built-ins, in the sandbox for user policies. */
function evaluateCase(policy: Policy, c: Case): Finding[] {
  const cluster = { name: 'test', labels: c.clusterLabels ?? {}, parameters: c.params ? { [policy.id]: c.params } : {} };
  const sandbox = sandboxOf(policy);
  // Binding checks the case's parameters against the policy's schemas (a ParameterError), here for user policies too.
  const bound = inProcessEvaluator([policy], cluster);
  if (!sandbox) return bound.evaluate(c.resources, { operation: c.operation, now: new Date() }).findings;
  const objects = c.resources.map((r) => r.object);
  const result = sandbox.run({ cluster, objects, operation: c.operation, only: policy.id, now: Date.now() });
  const findings: Finding[] = result.findings.map(({ resourceIndex, segments: _segments, ...f }) =>
    objects[resourceIndex] ? { ...f, resource: refOf(objects[resourceIndex]) } : f,
  );
  for (const s of result.stopped)
    findings.push({ policy: s.policy, severity: policy.severity, action: policy.action, message: `policy error: stopped (${s.reason})`, resource: refOf(objects[s.resourceIndex] ?? {}), path: '$', error: true });
  return findings;
}

function judge(policy: Policy, c: Case): CaseResult {
  let findings: Finding[];
  try {
    findings = evaluateCase(policy, c);
  } catch (err) {
    if (!(err instanceof ParameterError)) throw err;
    return { policy: policy.id, expect: c.expect, name: c.name, ok: false, detail: `the case's parameters: ${err.message}`, findings: [], file: c.file };
  }
  const own = findings.filter((f) => f.policy === policy.id);
  const errors = own.filter((f) => f.error);
  let detail: string | undefined;
  if (errors.length) detail = `the policy threw: ${errors[0].message}`;
  else if (c.expect === 'pass' && own.length) detail = `expected no finding, got ${own.length}: ${own.map((f) => `${f.path}: ${f.message}`).join('; ')}`;
  else if (c.expect === 'fail' && !own.length) detail = 'expected a finding, got none';
  return { policy: policy.id, expect: c.expect, name: c.name, ok: detail === undefined, detail, findings: own, file: c.file };
}

/** A fleet-scope example: every cluster with its objects, judged by the fleet evaluator as scan does. */
function judgeFleet(policy: Policy, e: FleetExample, expect: Expectation, index: number): CaseResult {
  const name = e.name ?? `${expect} #${index + 1} (fleet of ${e.clusters.length})`;
  const members = e.clusters.map((c) => ({ name: c.name, labels: c.labels ?? {}, status: c.status ?? 'ok', layers: c.layers ?? [], objects: c.objects ?? [] }));
  const result = evaluateFleet([policy], members, { parameters: e.params ? { [policy.id]: e.params } : {} });
  const own = result.findings.filter((f) => f.policy === policy.id);
  const rule = result.rules[0];
  let detail: string | undefined;
  if (rule?.error) detail = `the policy threw: ${rule.error}`;
  else if (expect === 'pass' && own.length) detail = `expected no finding, got ${own.length}: ${own.map((f) => `${f.cluster}: ${f.message}`).join('; ')}`;
  else if (expect === 'fail' && !own.length) detail = 'expected a finding, got none';
  return { policy: policy.id, expect, name, ok: detail === undefined, detail, findings: own };
}

/** Runs a policy's own examples. */
export function runPolicyExamples(policy: Policy): CaseResult[] {
  if (policy.scope === 'fleet') {
    const cases = policy.examples as unknown as { pass: FleetExample[]; fail: FleetExample[] };
    return [...cases.pass.map((e, i) => judgeFleet(policy, e, 'pass', i)), ...cases.fail.map((e, i) => judgeFleet(policy, e, 'fail', i))];
  }
  return [
    ...policy.examples.pass.map((e, i) => judge(policy, exampleCase(e, 'pass', i))),
    ...policy.examples.fail.map((e, i) => judge(policy, exampleCase(e, 'fail', i))),
  ];
}

/**
 * Runs users' PolicyTest files found under paths:
 *
 *   apiVersion: fleetgate.io/v1alpha1
 *   kind: PolicyTest
 *   metadata: { name: quota-edge }
 *   spec:
 *     policy: quota.within-cluster-maximum
 *     clusterLabels: { type: edge }
 *     params: { maxima: { edge: { cpu: "8" } } }
 *     cases:
 *       - { name: small quota, expect: pass, file: quota-small.yaml }
 *       - { name: big quota, expect: fail, objects: [ {apiVersion: v1, kind: ResourceQuota, ...} ] }
 */
export async function runTestFiles(
  paths: readonly string[],
  policies: readonly Policy[],
): Promise<{ results: CaseResult[]; errors: InputError[] }> {
  const loaded = await loadPaths(paths);
  const errors = [...loaded.errors];
  const results: CaseResult[] = [];
  const byId = new Map(policies.map((p) => [p.id, p]));
  for (const r of loaded.resources) {
    if (r.object.kind !== 'PolicyTest') continue;
    const file = r.file ?? '?';
    const spec = r.object.spec;
    // file:line of a path in the test, for errors a reader can jump to
    const at = (path: (string | number)[], message: string): InputError => {
      const where = r.locate?.(path) ?? r.locate?.([]);
      return { file, ...(where ? { line: where.line, column: where.column } : {}), message };
    };
    if (!isPlainObject(spec) || typeof spec.policy !== 'string' || !Array.isArray(spec.cases)) {
      errors.push(at(['spec'], `PolicyTest "${nameOf(r.object)}": spec needs policy and cases`));
      continue;
    }
    const policy = byId.get(spec.policy);
    if (!policy) {
      errors.push(at(['spec', 'policy'], `PolicyTest "${nameOf(r.object)}": no policy with id "${spec.policy}" is loaded`));
      continue;
    }
    // A key nobody reads is a test that does not test what its author meant (`param:` for `params:`, `expects:`).
    const strict = strictProblems(r.object, policy);
    if (strict.length) {
      pushAll(errors, strict.map(({ path, message }) => at(path, `PolicyTest "${nameOf(r.object)}": ${message}`)));
      continue;
    }
    for (const [i, raw] of spec.cases.entries()) {
      if (!isPlainObject(raw) || (raw.expect !== 'pass' && raw.expect !== 'fail')) {
        errors.push(at(['spec', 'cases', i], `PolicyTest "${nameOf(r.object)}" case ${i + 1}: expect must be pass or fail`));
        continue;
      }
      let resources: Resource[] = [];
      if (Array.isArray(raw.objects)) resources = raw.objects.filter(isPlainObject).map((object) => ({ object }));
      if (typeof raw.file === 'string') {
        const inner = await loadPaths([resolve(dirname(file), raw.file)], { positions: false });
        pushAll(errors, inner.errors);
        pushAll(resources, inner.resources);
      }
      results.push(
        judge(policy, {
          name: typeof raw.name === 'string' ? raw.name : `case ${i + 1}`,
          expect: raw.expect,
          resources,
          clusterLabels: isPlainObject(spec.clusterLabels) ? (spec.clusterLabels as Record<string, string>) : undefined,
          params: isPlainObject(spec.params) ? spec.params : undefined,
          file,
        }),
      );
    }
  }
  return { results, errors };
}

const TEST_KEYS = ['apiVersion', 'kind', 'metadata', 'spec'];
const TEST_SPEC_KEYS = ['policy', 'clusterLabels', 'params', 'cases'];
const TEST_CASE_KEYS = ['name', 'expect', 'objects', 'file'];

/** Unknown keys in a PolicyTest (top level, spec, each case) and parameters its policy does not declare. */
function strictProblems(test: KubeObject, policy: Policy): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const spec = test.spec as Record<string, unknown>;
  const keyed = (path: (string | number)[], obj: unknown, known: readonly string[], where: string) => {
    if (!isPlainObject(obj)) return;
    for (const key of Object.keys(obj)) {
      const [message] = unknownKeys({ [key]: true }, known, where);
      if (message) out.push({ path: [...path, key], message });
    }
  };
  keyed([], test, TEST_KEYS, 'the test');
  keyed(['spec'], spec, TEST_SPEC_KEYS, 'spec');
  (spec.cases as unknown[]).forEach((c, i) => keyed(['spec', 'cases', i], c, TEST_CASE_KEYS, `case ${i + 1}`));
  if (isPlainObject(spec.params))
    for (const message of undeclaredParameters({ [policy.id]: spec.params }, [policy], 'spec.params'))
      out.push({ path: ['spec', 'params'], message });
  return out;
}
