import { dirname, resolve } from 'node:path';
import type { Example, Params, Policy } from '../authoring/index.js';
import { Engine } from '../engine/index.js';
import type { Resource } from '../model/index.js';
import { loadPaths } from './manifests.js';
import { isPlainObject, nameOf } from '../model/index.js';
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

function judge(policy: Policy, c: Case): CaseResult {
  const engine = new Engine([policy]).bind({
    name: 'test',
    labels: c.clusterLabels ?? {},
    parameters: c.params ? { [policy.id]: c.params } : {},
  });
  const { findings } = engine.evaluate(c.resources, { operation: c.operation, now: new Date() });
  const own = findings.filter((f) => f.policy === policy.id);
  const errors = own.filter((f) => f.error);
  let detail: string | undefined;
  if (errors.length) detail = `the policy threw: ${errors[0].message}`;
  else if (c.expect === 'pass' && own.length) detail = `expected no finding, got ${own.length}: ${own.map((f) => `${f.path}: ${f.message}`).join('; ')}`;
  else if (c.expect === 'fail' && !own.length) detail = 'expected a finding, got none';
  return { policy: policy.id, expect: c.expect, name: c.name, ok: detail === undefined, detail, findings: own, file: c.file };
}

/** Runs a policy's own examples. */
export function runPolicyExamples(policy: Policy): CaseResult[] {
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
  const loaded = await loadPaths(paths, { positions: false });
  const errors = [...loaded.errors];
  const results: CaseResult[] = [];
  const byId = new Map(policies.map((p) => [p.id, p]));
  for (const r of loaded.resources) {
    if (r.object.kind !== 'PolicyTest') continue;
    const file = r.file ?? '?';
    const spec = r.object.spec;
    if (!isPlainObject(spec) || typeof spec.policy !== 'string' || !Array.isArray(spec.cases)) {
      errors.push({ file, message: `PolicyTest "${nameOf(r.object)}": spec needs policy and cases` });
      continue;
    }
    const policy = byId.get(spec.policy);
    if (!policy) {
      errors.push({ file, message: `PolicyTest "${nameOf(r.object)}": no policy with id "${spec.policy}" is loaded` });
      continue;
    }
    for (const [i, raw] of spec.cases.entries()) {
      if (!isPlainObject(raw) || (raw.expect !== 'pass' && raw.expect !== 'fail')) {
        errors.push({ file, message: `PolicyTest "${nameOf(r.object)}" case ${i + 1}: expect must be pass or fail` });
        continue;
      }
      let resources: Resource[] = [];
      if (Array.isArray(raw.objects)) resources = raw.objects.filter(isPlainObject).map((object) => ({ object }));
      if (typeof raw.file === 'string') {
        const inner = await loadPaths([resolve(dirname(file), raw.file)], { positions: false });
        errors.push(...inner.errors);
        resources.push(...inner.resources);
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
