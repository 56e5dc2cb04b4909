import t from 'tap';
import { effectiveActions, parseRollout, rolloutAction, rolloutsAmong, type PolicyRollout } from '../../src/engine/index.js';
import { nextStep, stagePlans } from '../../src/engine/index.js';

const spec = {
  policies: ['pss.restricted.*'],
  cohortLabel: 'cohort',
  before: 'audit',
  stages: [
    { cohorts: ['0'], action: 'deny' },
    { cohorts: ['1'], action: 'warn', soak: '48h' },
    { cohorts: ['1'], action: 'deny', soak: '48h' },
    { cohorts: ['2'], action: 'deny', soak: '72h' },
    { cohorts: ['3'], action: 'deny', soak: '72h', batchSize: 2 },
  ],
  gate: { maxFindings: 0, maxDesiredViolations: 0 },
};

function rollout(status?: Record<string, unknown>, overrides: Record<string, unknown> = {}): PolicyRollout {
  const r = parseRollout({ apiVersion: 'fleetgate.io/v1alpha1', kind: 'PolicyRollout', metadata: { name: 'restricted' }, spec: { ...spec, ...overrides }, ...(status ? { status } : {}) });
  if (typeof r === 'string') throw new Error(r);
  return r;
}

const fleet = [
  { name: 'canary', labels: { cohort: '0' } },
  { name: 'par01', labels: { cohort: '1' } },
  { name: 'fra01', labels: { cohort: '2' } },
  { name: 'syd01', labels: { cohort: '3' } },
  { name: 'ams01', labels: { cohort: '3' } },
  { name: 'tyo01', labels: { cohort: '3' } },
  { name: 'nolabel', labels: {} },
];

t.test('the action of a cluster is that of the last reached stage naming its cohort, else before', async (t) => {
  const at = (status: Record<string, unknown> | undefined, name: string) => rolloutAction(rollout(status), fleet.find((c) => c.name === name)!, fleet);
  t.same(at(undefined, 'canary'), { action: 'audit', rollout: 'restricted', from: 'before' }, 'not started: every cluster is before');
  t.equal(at({ stage: 0 }, 'canary').action, 'deny');
  t.equal(at({ stage: 0 }, 'par01').action, 'audit');
  t.same(at({ stage: 1 }, 'par01'), { action: 'warn', rollout: 'restricted', from: 'stage 1' });
  t.same(at({ stage: 2 }, 'par01'), { action: 'deny', rollout: 'restricted', from: 'stage 2' }, 'a later stage for the same cohort wins');
  t.equal(at({ stage: 3 }, 'syd01').action, 'audit');
  t.equal(at({ stage: 4, batch: 1 }, 'ams01').action, 'deny', 'batch 1 of cohort 3 in name order: ams01, syd01');
  t.equal(at({ stage: 4, batch: 1 }, 'syd01').action, 'deny');
  t.equal(at({ stage: 4, batch: 1 }, 'tyo01').action, 'audit', 'tyo01 is in batch 2');
  t.equal(at({ stage: 4 }, 'tyo01').action, 'deny', 'no batch in status: the whole stage is reached');
  t.equal(at({ stage: 4 }, 'nolabel').action, 'audit', 'a cluster without the cohort label stays before');
  // Without the fleet's cluster list (serve, lint) a partly reached batched stage is not counted as reached.
  t.equal(rolloutAction(rollout({ stage: 4, batch: 1 }), { name: 'ams01', labels: { cohort: '3' } }).action, 'audit');
});

t.test('malformed rollouts say what is wrong', async (t) => {
  const bad = (specPatch: Record<string, unknown>, status?: unknown) =>
    parseRollout({ apiVersion: 'fleetgate.io/v1alpha1', kind: 'PolicyRollout', metadata: { name: 'x' }, spec: { ...spec, ...specPatch }, ...(status !== undefined ? { status } : {}) });
  t.match(bad({ policies: [] }), /spec.policies must list/);
  t.match(bad({ stages: [{ cohorts: ['0'], action: 'block' }] }), /spec.stages\[0\].action must be one of deny, warn, audit/);
  t.match(bad({ stages: [{ cohorts: ['0'], action: 'deny', soak: '2 days' }] }), /soak "2 days" is not a duration/);
  t.match(bad({ stages: [{ cohort: ['0'], action: 'deny' }] }), /spec.stages\[0\].cohort is not a PolicyRollout field/);
  t.match(bad({ gate: { maxFinding: 1 } }), /spec.gate.maxFinding is not a PolicyRollout field/);
  t.match(bad({}, { stage: 9 }), /status.stage must be a stage index from 0 to 4/);
  t.match(bad({}, { stage: 1, since: 'yesterday' }), /status.since "yesterday" is not a time/);
  const { rollouts, invalid } = rolloutsAmong([
    { apiVersion: 'fleetgate.io/v1alpha1', kind: 'PolicyRollout', metadata: { name: 'ok' }, spec },
    { apiVersion: 'fleetgate.io/v1alpha1', kind: 'PolicyRollout', metadata: { name: 'bad' }, spec: {} },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' } },
  ]);
  t.same(rollouts.map((r) => r.name), ['ok']);
  t.same(invalid.map((i) => [i.object.metadata?.name, i.message]), [['bad', 'invalid PolicyRollout: spec.policies must list policy ids or globs']]);
});

t.test('effective actions: default < configured actions < rollout < this cluster\'s own override', async (t) => {
  const policies = [
    { id: 'pss.restricted.seccomp-profile', action: 'warn' as const },
    { id: 'pss.restricted.capabilities', action: 'warn' as const },
    { id: 'pss.baseline.privileged', action: 'deny' as const },
    { id: 'quota.container-resources', action: 'deny' as const },
  ];
  const eff = effectiveActions(
    policies,
    { 'pss.restricted.*': 'audit', 'quota.container-resources': 'warn' },
    { 'pss.restricted.capabilities': 'warn' },
    [rollout({ stage: 1 })],
    { name: 'par01', labels: { cohort: '1' } },
  );
  t.same(Object.fromEntries(eff), {
    'pss.restricted.seccomp-profile': { action: 'warn', from: 'rollout restricted stage 1' },
    'pss.restricted.capabilities': { action: 'warn', from: 'override' },
    'pss.baseline.privileged': { action: 'deny', from: 'default' },
    'quota.container-resources': { action: 'warn', from: 'actions' },
  });
});

t.test('stages and the next step over a fleet', async (t) => {
  t.same(stagePlans(rollout({ stage: 4, batch: 1 }), fleet).map((s) => [s.state, s.clusters, s.batches, s.batchesReached]), [
    ['done', ['canary'], 1, undefined],
    ['done', ['par01'], 1, undefined],
    ['done', ['par01'], 1, undefined],
    ['done', ['fra01'], 1, undefined],
    ['current', ['ams01', 'syd01', 'tyo01'], 2, 1],
  ]);
  const since = new Date('2026-12-01T09:00:00Z');
  const s1 = nextStep(rollout({ stage: 1, since: since.toISOString() }), fleet)!;
  t.same({ ...s1, soakEndsAt: s1.soakEndsAt?.toISOString() }, { stage: 2, clusters: ['par01'], evidenceClusters: ['par01'], soakMs: 48 * 3600e3, soakEndsAt: '2026-12-03T09:00:00.000Z' });
  const s3 = nextStep(rollout({ stage: 3, since: since.toISOString() }), fleet)!;
  t.same([s3.stage, s3.batch, s3.clusters, s3.evidenceClusters], [4, 1, ['ams01', 'syd01'], ['fra01']], 'a batched stage starts with its first batch');
  const b2 = nextStep(rollout({ stage: 4, batch: 1, since: since.toISOString() }), fleet)!;
  t.same([b2.stage, b2.batch, b2.clusters, b2.evidenceClusters, b2.soakMs], [4, 2, ['tyo01'], ['ams01', 'syd01'], 0], 'then its next batch, on evidence of the batches reached');
  t.equal(nextStep(rollout({ stage: 4 }), fleet), undefined, 'complete');
  t.same(nextStep(rollout(), fleet)!.clusters, ['canary'], 'not started: the first stage is next, with no soak');
});
