// `fleetgate rollout advance|pause|resume|back`: only the status lines change, only when the gate holds; exit codes.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { HOUR, resources, bareCache, barePod, makeFleet, rolloutStatusJson } from '../helpers/rollout-fleet.js';

t.test('advance changes exactly the status lines, only when the gate holds; exit codes say what happened', async (t) => {
  const root = await tempDir(t, 'fleetgate-rollout-');
  const since = new Date(Date.now() - 2 * HOUR);
  const fleet = await makeFleet(root, since);
  const file = join(root, 'repo/base/rollouts.yaml');
  const before = await readFile(file, 'utf8');

  const blocked = await runCli(['rollout', 'advance', '--fleet', fleet, 'container-resources']);
  t.equal(blocked.code, 1, 'blocked: exit 1');
  t.match(blocked.stdout, /container-resources: blocked: .*finding/);
  t.equal(await readFile(file, 'utf8'), before, 'nothing written');
  const ifReady = await runCli(['rollout', 'advance', '--fleet', fleet, '--all', '--if-ready']);
  t.equal(ifReady.code, 3, 'with --if-ready, nothing ready is exit 3 (nothing to do)');

  const noReason = await runCli(['rollout', 'advance', '--fleet', fleet, 'container-resources', '--force']);
  t.equal(noReason.code, 2, '--force without --reason is a usage error');

  // Clean the evidence, then advance for real.
  await writeFile(join(root, 'clusters/c1-a/pods.yaml'), barePod.replace('image: "busybox:1.36" }', `image: "busybox:1.36", resources: ${resources} }`));
  await writeFile(join(root, 'repo/overlays/cohort-2/cache.yaml'), bareCache);
  const dry = await runCli(['rollout', 'advance', '--fleet', fleet, 'container-resources', '--dry-run']);
  t.equal(dry.code, 0);
  t.match(dry.stdout, /^-status: \{ stage: 1, since: ".*" \}$/m, 'the dry run shows the status line going');
  t.match(dry.stdout, /^\+status: \{ stage: 2, since: ".*" \}$/m, 'and the new one');
  t.equal(await readFile(file, 'utf8'), before, '--dry-run writes nothing');

  const ok = await runCli(['rollout', 'advance', '--fleet', fleet, 'container-resources']);
  t.equal(ok.code, 0, `advanced: ${ok.stdout}${ok.stderr}`);
  const after = await readFile(file, 'utf8');
  const a = before.split('\n');
  const b = after.split('\n');
  t.equal(b.length, a.length, 'same number of lines');
  t.same(b.map((l, i) => (l === a[i] ? null : i)).filter((i) => i !== null), [a.findIndex((l) => l.startsWith('status:'))], 'only the status line changed');
  t.match(after, /\n {4}- \{ cohorts: \["1"\], action: deny, soak: 1h \}   # one hour on the low-traffic cohort\n/, 'flow styles and comments kept');
  t.equal((await rolloutStatusJson(fleet)).stage, 2);

  const waiting = await runCli(['rollout', 'advance', '--fleet', fleet, 'container-resources']);
  t.equal(waiting.code, 1, 'the new stage soaks: not ready, exit 1');
  t.match(waiting.stdout, /waiting: soak of stage 2/);

  const forced = await runCli(['rollout', 'advance', '--fleet', fleet, 'container-resources', '--force', '--reason', 'CAB-123 approved early']);
  t.equal(forced.code, 0);
  const s3 = await rolloutStatusJson(fleet);
  t.same([s3.stage, s3.batch], [3, 1], 'into the batched stage, first batch');
  t.same(Object.fromEntries(s3.clusters.map((c: any) => [c.name, c.action])), { canary: 'deny', 'c1-a': 'deny', 'c2-a': 'deny', 'c3-a': 'deny', 'c3-b': 'audit' }, 'batches go in name order');
  t.match(await readFile(file, 'utf8'), /forcedReason: "CAB-123 approved early"/, 'the override is recorded under status');

  t.equal((await runCli(['rollout', 'pause', '--fleet', fleet, 'container-resources', '--reason', 'incident'])).code, 0);
  const paused = await runCli(['rollout', 'advance', '--fleet', fleet, '--all']);
  t.equal(paused.code, 3, 'a paused rollout has nothing to advance');
  t.match(paused.stdout, /paused \(incident\)/);
  t.equal((await runCli(['rollout', 'resume', '--fleet', fleet, 'container-resources'])).code, 0);
  t.equal((await runCli(['rollout', 'back', '--fleet', fleet, 'container-resources'])).code, 0);
  t.same((await rolloutStatusJson(fleet)).stage, 2, 'back one stage');
  const rest = (text: string) => text.slice(0, text.indexOf('\nstatus:'));
  t.equal(rest(await readFile(file, 'utf8')), rest(before), 'after every edit, everything above status: is as the author wrote it');
});
