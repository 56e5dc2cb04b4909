// `fleetgate rollout status`: the gate's blockers (findings at the current stage, the next cohort's desired state) and the soak.
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { HOUR, resources, bareCache, barePod, rolloutYaml, makeFleet, rolloutStatusJson } from '../helpers/rollout-fleet.js';

t.test('status: blocked by a finding at the current stage and by the next cohort\'s desired state; ready once both are clean and the soak has passed', async (t) => {
  const root = await tempDir(t, 'fleetgate-rollout-');
  const fleet = await makeFleet(root, new Date(Date.now() - 2 * HOUR));

  let s = await rolloutStatusJson(fleet);
  t.equal(s.stage, 1);
  t.same(s.stages.map((x: any) => [x.state, x.clusters]), [
    ['done', ['canary']],
    ['current', ['c1-a']],
    ['pending', ['c2-a']],
    ['pending', ['c3-a', 'c3-b']],
  ]);
  t.same(Object.fromEntries(s.clusters.map((c: any) => [c.name, c.action])), { canary: 'deny', 'c1-a': 'deny', 'c2-a': 'audit', 'c3-a': 'audit', 'c3-b': 'audit' });
  t.equal(s.next.stage, 2);
  t.equal(s.next.state, 'blocked');
  const finding = s.next.blockers.find((b: any) => b.kind === 'finding');
  t.match(finding, { cluster: 'c1-a', policy: 'quota.container-resources', resource: 'Pod shop/debug' }, 'the cohort-1 cluster\'s finding blocks');
  const violation = s.next.blockers.find((b: any) => b.kind === 'desired-violation');
  t.match(violation, { cluster: 'c2-a', policy: 'quota.container-resources', resource: 'Deployment shop/cache' }, 'the cohort-2 desired state blocks');
  t.match(violation.source.file, /overlays\/cohort-2\/cache\.yaml$/, 'with the config-repo file to fix');
  t.equal(violation.source.line, 9, 'and the line of the container');

  await writeFile(join(root, 'clusters/c1-a/pods.yaml'), barePod.replace('image: "busybox:1.36" }', `image: "busybox:1.36", resources: ${resources} }`));
  s = await rolloutStatusJson(fleet);
  t.equal(s.next.state, 'blocked', 'still blocked by the desired state alone');
  t.same(s.next.blockers.map((b: any) => b.kind), ['desired-violation']);

  await writeFile(join(root, 'repo/overlays/cohort-2/cache.yaml'), bareCache);
  s = await rolloutStatusJson(fleet);
  t.equal(s.next.state, 'ready', `ready: ${s.next.reason}`);
  t.same(s.next.blockers, []);

  await writeFile(join(root, 'repo/base/rollouts.yaml'), rolloutYaml(`status: { stage: 1, since: "${new Date(Date.now() - HOUR / 2).toISOString()}" }\n`));
  s = await rolloutStatusJson(fleet);
  t.equal(s.next.state, 'waiting', 'clean but inside the soak');
  t.match(s.next.reason, /soak of stage 1 ends .* \(3\dm left\)/);

  const pretty = await runCli(['rollout', 'status', '--fleet', fleet, '--format', 'pretty']);
  t.match(pretty.stdout, /container-resources — quota\.container-resources — stage 1/);
  t.match(pretty.stdout, /next: stage 2 \(1 cluster\(s\)\) — waiting/);
});
