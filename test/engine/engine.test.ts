import t from 'tap';
import { inProcessEvaluator, definePolicy } from '../../src/index.js';
import { imageOfFinding } from '../../src/engine/exceptions.js';

t.test('a policy that throws becomes an error finding, not a crash', async (t) => {
  const boom = definePolicy({
    id: 'test.boom',
    title: 'throws',
    area: 'test',
    severity: 'low',
    action: 'deny',
    match: { kinds: ['ConfigMap'] },
    validate() {
      throw new Error('kaput');
    },
    examples: { pass: [{}], fail: [{}] },
  });
  const { findings } = inProcessEvaluator([boom]).evaluate([{ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } } }]);
  t.equal(findings.length, 1);
  t.equal(findings[0].error, true);
  t.match(findings[0].message, /policy error: kaput/);
});

// The engine resolves, once per kind/group/operation, which policies can judge an object (a "plan"), and compiles
// match/exclude. These cases alternate kinds, groups and operations on one bound engine, so a plan cached for one
// combination must never answer for another.
t.test('cached plans: each kind, group and operation gets its own set of policies', async (t) => {
  const policy = (id: string, match: Record<string, unknown>, exclude?: Record<string, unknown>) =>
    definePolicy({
      id,
      title: id,
      area: 'test',
      severity: 'low',
      action: 'deny',
      match: match as never,
      exclude: exclude as never,
      validate({ report }) {
        report('seen');
      },
      examples: { pass: [{}], fail: [{}] },
    });
  const engine = inProcessEvaluator([
    policy('test.any-deployment', { kinds: ['Deployment'] }),
    policy('test.apps-only', { kinds: ['apps/Deployment'] }),
    policy('test.on-delete', { kinds: ['Deployment'], operations: ['DELETE'] }),
    policy('test.pods', { kinds: ['Pod'] }, { namespaces: ['kube-*'] }),
    policy('test.labelled', { kinds: ['Deployment'], labels: { matchLabels: { tier: 'web' } } }, { kinds: ['other.example/Deployment'] }),
  ]);
  const dep = (apiVersion: string, labels: Record<string, string> = {}, namespace = 'shop') => ({
    apiVersion,
    kind: 'Deployment',
    metadata: { name: 'd', namespace, labels },
    spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }] } } },
  });
  const ids = (object: object, operation?: 'CREATE' | 'UPDATE' | 'DELETE') =>
    [...new Set(engine.evaluateObject(object as never, { operation }).findings.map((f) => f.policy))].sort();
  for (let round = 0; round < 2; round++) {
    t.same(ids(dep('apps/v1')), ['test.any-deployment', 'test.apps-only', 'test.pods'], `apps/v1 CREATE (round ${round})`);
    t.same(ids(dep('apps/v1'), 'DELETE'), ['test.on-delete'], 'DELETE runs only the DELETE policy');
    t.same(ids(dep('other.example/v1')), ['test.any-deployment'], 'another group: no apps-only, no autogen');
    t.same(ids(dep('apps/v1', { tier: 'web' })), ['test.any-deployment', 'test.apps-only', 'test.labelled', 'test.pods'], 'label match');
    t.same(ids(dep('other.example/v1', { tier: 'web' })), ['test.any-deployment'], 'exclude by kind in another group');
    t.same(ids(dep('apps/v1', {}, 'kube-system')), ['test.any-deployment', 'test.apps-only'], 'exclude by namespace glob');
    t.same(ids(dep('apps/v1'), 'UPDATE'), ['test.any-deployment', 'test.apps-only', 'test.pods'], 'UPDATE like CREATE');
  }
});

t.test('checks are counted per policy, unless the caller opts out', async (t) => {
  const seen = definePolicy({
    id: 'test.seen',
    title: 'seen',
    area: 'test',
    severity: 'low',
    action: 'deny',
    match: { kinds: ['ConfigMap'] },
    validate() {},
    examples: { pass: [{}], fail: [{}] },
  });
  const engine = inProcessEvaluator([seen]);
  const cm = (name: string) => ({ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } } });
  t.same(engine.evaluate([cm('a'), cm('b'), { object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } } }]).checks, { 'test.seen': 2 });
  t.same(engine.evaluateObject(cm('a').object).checks, {}, 'admission does not count');
});

// Issue #17: the image of the container a finding is about rides on the finding (a non-enumerable symbol), not in a
// process-wide table: image-scoped waivers still match it, and nothing that copies or serializes findings sees it.
t.test('an image-scoped waiver matches the container a finding points into; the image is not part of the finding', async (t) => {
  const tagged = definePolicy({
    id: 'test.tagged',
    title: 'every container is reported',
    area: 'test',
    severity: 'low',
    action: 'warn',
    match: { kinds: ['Pod'] },
    validate({ object, report }) {
      ((object.spec as { containers: unknown[] }).containers ?? []).forEach((_, i) => report('seen', ['spec', 'containers', i, 'image']));
    },
    examples: { pass: [{}], fail: [{}] },
  });
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'a' }, spec: { containers: [{ name: 'a', image: 'registry.example/vetted/agent:1' }, { name: 'b', image: 'other/app:1' }] } };
  const waiver = {
    apiVersion: 'fleetgate.io/v1alpha1',
    kind: 'PolicyException',
    metadata: { name: 'vetted', namespace: 'a' },
    spec: { policies: ['test.tagged'], resources: [{ images: ['registry.example/vetted/*'] }], expires: '2099-01-01', reason: 'vendor-pinned' },
  };
  const engine = inProcessEvaluator([tagged]);
  const all = engine.evaluate([{ object: pod }]).findings;
  t.same(all.map((f) => f.path), ['$.spec.containers[0].image', '$.spec.containers[1].image']);
  t.same(all.map(imageOfFinding), ['registry.example/vetted/agent:1', 'other/app:1'], 'noted on each finding');
  for (const f of all) {
    t.equal(Object.getOwnPropertySymbols(f).length, 1, 'the image rides on the finding itself, not in a table that outlives it');
    t.notOk(Object.keys(f).some((k) => /image/i.test(k)) || Object.getOwnPropertySymbols(f).some((s) => Object.getOwnPropertyDescriptor(f, s)!.enumerable), 'nothing enumerable');
    t.notMatch(JSON.stringify(f), /registry\.example|other\/app/);
    t.equal(imageOfFinding({ ...f }), undefined, 'a copy carries no image (as a table keyed by the finding did)');
  }
  const r = engine.evaluate([{ object: pod }, { object: waiver }]);
  t.same(r.findings.map((f) => f.path), ['$.spec.containers[1].image'], 'only the other container is reported');
  t.equal(r.waived, 1);
});
