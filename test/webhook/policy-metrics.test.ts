// PolicyMetrics.settle: each policy that ran is counted once per review as pass, fail or error, whether it is known
// from the in-process runs, the sandbox's checks or a finding (the counting no longer builds a set per review).
import t from 'tap';
import { Registry } from 'prom-client';
import { PolicyMetrics } from '../../webhook/policy-metrics.js';
import type { Finding } from '../../src/model/index.js';

const finding = (policy: string, error = false): Finding => ({
  policy,
  severity: 'high',
  action: 'deny',
  message: 'm',
  resource: { apiVersion: 'v1', kind: 'Pod', name: 'p' },
  path: '$',
  ...(error ? { error: true as const } : {}),
});

t.test('settle counts every policy once per review, from runs, checks and findings', async (t) => {
  const m = new PolicyMetrics([new Registry()]);
  const builtIn = m.stat('b.one', 'deny');
  const other = m.stat('b.two', 'deny');
  const user = m.stat('u.one', 'deny');
  const stopped = m.stat('u.two', 'deny');
  const count = (s: typeof builtIn) => [s.pass, s.fail, s.error];
  // A compliant review with built-ins only: their checks are {} (nothing beyond the runs).
  m.settle([], [builtIn, other], {});
  t.same([count(builtIn), count(other), count(user)], [[1, 0, 0], [1, 0, 0], [0, 0, 0]]);
  // Built-in fails; a user policy checked and passed; another user policy stopped (an error finding, also in checks).
  m.settle([finding('b.one'), finding('b.one'), finding('u.two', true)], [builtIn, other], { 'u.one': 1, 'u.two': 1 });
  t.same(count(builtIn), [1, 1, 0], 'two findings are one failed evaluation');
  t.same(count(other), [2, 0, 0]);
  t.same(count(user), [1, 0, 0], 'counted from the checks');
  t.same(count(stopped), [0, 0, 1], 'in checks and in the findings: counted once, as an error');
  // A finding of a policy that is neither in the runs nor in the checks still counts once; an unknown id not at all.
  m.settle([finding('u.one'), finding('fleetgate.exception-expired')], [], undefined);
  t.same(count(user), [1, 1, 0]);
});
