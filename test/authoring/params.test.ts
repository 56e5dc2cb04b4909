import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { definePolicy, param, ParameterError, PolicyDefinitionError, undeclaredParameters } from '../../src/authoring/index.js';
import { inProcessEvaluator } from '../../src/engine/index.js';
import { loadPolicySet } from '../../src/loading/index.js';
import { policies as pss } from '../../policies/pod-security/index.js';
import { runCli, tempDir } from '../helpers/cli.js';

/** Parameter schemas: declared with a type and a default, checked once when a policy is bound to a cluster context. */

const ns = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

const tiers = definePolicy({
  id: 'params.tier',
  title: 't',
  area: 'params',
  severity: 'low',
  action: 'warn',
  match: { kinds: ['Namespace'] },
  params: { tiers: param.strings(['gold']), max: param.integer(3), strict: param.boolean(false), plain: ['x'] as string[] },
  validate({ object, params, report }) {
    const tier = object.metadata?.labels?.tier;
    if (tier === undefined || !params.tiers.includes(tier)) report(`tier ${tier} (max ${params.max}, strict ${params.strict}, plain ${params.plain.join()})`);
  },
  examples: { pass: [ns('a', { tier: 'gold' })], fail: [ns('b')] },
});

t.test('a declared parameter: its default in params, its schema in paramSchemas, its value in ctx.params', async (t) => {
  t.same(tiers.params, { tiers: ['gold'], max: 3, strict: false, plain: ['x'] });
  t.same(tiers.paramSchemas, { tiers: { $param: 'string[]' }, max: { $param: 'integer' }, strict: { $param: 'boolean' } }, 'plain defaults have no schema');
  const f = inProcessEvaluator([tiers], { parameters: { tiers: ['silver'], max: 5 } }).evaluate([{ object: ns('a', { tier: 'gold' }) }]).findings;
  t.match(f, [{ policy: 'params.tier', message: 'tier gold (max 5, strict false, plain x)' }]);
});

t.test('a default that does not fit its own schema is a definition error naming the policy and parameter', async (t) => {
  const { paramSchemas: _, ...spec } = tiers;
  t.throws(() => definePolicy({ ...spec, id: 'params.bad', params: { level: param.oneOf(['a', 'b'], 'c' as 'a') } } as never), {
    name: PolicyDefinitionError.name,
    message: 'policy "params.bad": parameter "level": its default is "c", not one of a, b',
  });
  t.throws(() => definePolicy({ ...spec, id: 'params.bad', params: { n: { $param: 'float', default: 1 } } } as never), { message: /parameter "n": unknown type "float"/ });
});

t.test('binding a context with a wrong type throws a ParameterError naming every policy and parameter', async (t) => {
  t.throws(() => inProcessEvaluator([tiers], { name: 'edge-1', parameters: { max: 2.5, 'params.tier': { tiers: 'gold' } } }), {
    name: ParameterError.name,
    message: 'wrong parameter types for cluster edge-1:\n  policy params.tier: parameter "tiers" is string "gold", not a list of strings\n  policy params.tier: parameter "max" is number 2.5, not an integer',
  });
  t.throws(() => inProcessEvaluator(pss, { parameters: { defaultEnforce: 'strict' } }), {
    message: /policy pss\.baseline\.host-namespaces: parameter "defaultEnforce" is "strict", not one of privileged, baseline, restricted/,
  });
  t.throws(() => inProcessEvaluator(pss, { parameters: { 'pss.restricted.*': { exemptNamespaces: 'kube-system' } } }), {
    message: /policy pss\.restricted\.restricted-volumes: parameter "exemptNamespaces" is string "kube-system", not a list of strings/,
  });
  t.doesNotThrow(() => inProcessEvaluator(pss, { parameters: { defaultEnforce: 'restricted', exemptNamespaces: ['ops'] } }), 'right types bind');
  t.doesNotThrow(() => inProcessEvaluator([tiers], { parameters: { plain: 42 } }), 'a plain default is not checked: its policy reads it as it wants');
});

t.test('the strict parameter check reports wrong types with their source, once per parameter', async (t) => {
  t.same(undeclaredParameters({ defaultWarn: 'loud', 'pss.baseline.privileged': { enforceOnTemplates: 'no' } }, pss, 'fleet.yaml: parameters'), [
    'fleet.yaml: parameters defaultWarn: policy pss.baseline.host-namespaces (and 18 more): parameter "defaultWarn" is "loud", not one of privileged, baseline, restricted',
    'fleet.yaml: parameters pss.baseline.privileged:enforceOnTemplates: policy pss.baseline.privileged: parameter "enforceOnTemplates" is string "no", not a boolean',
  ]);
  t.same(undeclaredParameters({ defaultWarn: 'baseline', 'pss.*': { exemptUsernames: ['ci'] } }, pss, '--param'), []);
});

t.test('lint: a --param of the wrong type is a usage error naming the policy and parameter, nothing judged', async (t) => {
  const dir = await tempDir(t, 'fleetgate-params-');
  const file = join(dir, 'pod.yaml');
  await writeFile(file, 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: a, image: a:1}]}\n');
  const r = await runCli(['lint', file, '--format', 'json', '--param', 'exemptNamespaces=kube-system']);
  t.equal(r.code, 2, r.stderr);
  t.match(r.stderr, /--param exemptNamespaces: policy pss\.baseline\.\S+ \(and 18 more\): parameter "exemptNamespaces" is string "kube-system", not a list of strings/);
  t.equal(r.stdout, '', 'no report');
});

t.test("a user policy's schemas cross the sandbox: checked at binding like a built-in's", async (t) => {
  const set = await loadPolicySet(['test/fixtures/authoring/param-schema'], { builtins: [] });
  t.same(set.errors, []);
  const [p] = set.policies;
  t.same(p.paramSchemas, { tiers: { $param: 'string[]' }, label: { $param: 'string', oneOf: ['tier', 'acme.io/tier'] } });
  const dir = await tempDir(t, 'fleetgate-params-');
  await writeFile(join(dir, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {tier: gold}}\n');
  const bad = await runCli(['lint', join(dir, 'ns.yaml'), '--no-builtins', '--policies', 'test/fixtures/authoring/param-schema', '--param', 'label=team']);
  t.equal(bad.code, 2, bad.stderr);
  t.match(bad.stderr, /--param label: policy acme\.tier-label: parameter "label" is "team", not one of tier, acme\.io\/tier/);
  const test = await runCli(['test', '--no-builtins', '--policies', 'test/fixtures/authoring/param-schema']);
  t.equal(test.code, 0, test.stdout + test.stderr);
});

t.test("an example whose parameters do not fit the schema fails as a case, naming the parameter", async (t) => {
  const { runPolicyExamples } = await import('../../src/loading/index.js');
  const { paramSchemas: _, ...spec } = tiers;
  const p = definePolicy({ ...(spec as never as Parameters<typeof definePolicy>[0]), params: { tiers: param.strings(['gold']) }, examples: { pass: [ns('a', { tier: 'gold' })], fail: [{ objects: [ns('b')], params: { tiers: 'gold' } }] } } as never);
  const results = runPolicyExamples(p);
  t.match(results, [{ ok: true }, { ok: false, detail: /the case's parameters: .*parameter "tiers" is string "gold", not a list of strings/s }]);
});
