// scan judges each cluster with its rollout stage's action and reports the rollout's progress.
import t from 'tap';
import { runCli, tempDir } from '../helpers/cli.js';
import { HOUR, resources, barePod, put, makeFleet } from '../helpers/rollout-fleet.js';

t.test('scan judges each cluster with its stage\'s action and reports the rollout\'s progress', async (t) => {
  const root = await tempDir(t, 'fleetgate-rollout-');
  const fleet = await makeFleet(root, new Date(Date.now() - 2 * HOUR));
  await put(root, 'clusters/c3-a/pods.yaml', barePod);
  const r = await runCli(['scan', '--fleet', fleet, '--format', 'json']);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const actionOf = (name: string) =>
    report.clusters.find((c: any) => c.name === name).findings.filter((f: any) => f.policy === 'quota.container-resources').map((f: any) => f.action);
  t.same(actionOf('c1-a'), ['deny'], 'cohort 1 is enforced');
  t.same(actionOf('c3-a'), ['audit'], 'cohort 3 only audits');
  t.same(report.clusters.map((c: any) => c.drift.filter((d: any) => d.resource.kind === 'PolicyRollout').length), [0, 0, 0, 0, 0], 'a rollout held only in the config repo is not drift');
  t.match(report.rollouts, [{ name: 'container-resources', stage: 1, actions: { deny: 2, audit: 3 }, next: { stage: 2, clusters: 1 } }]);
  const html = await runCli(['scan', '--fleet', fleet, '--format', 'html']);
  t.match(html.stdout, /<h2>Policy rollouts<\/h2>.*container-resources.*stage 2\/4/s);
});
