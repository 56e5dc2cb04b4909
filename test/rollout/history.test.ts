// `rollout status --history`: the gate reads the findings of the soak window from the history store that scans
// write, so one bad run inside the soak blocks even when the cluster is clean now.
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { HOUR, bareCache, barePod, makeFleet, resources } from '../helpers/rollout-fleet.js';

async function status(fleet: string, history: string): Promise<any> {
  const r = await runCli(['rollout', 'status', '--fleet', fleet, '--history', history, '--format', 'json']);
  if (r.code !== 0) throw new Error(`rollout status exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout).rollouts[0];
}

t.test('the soak window\'s runs are the evidence; a cluster no run recorded blocks', async (t) => {
  const root = await tempDir(t, 'fleetgate-rollout-history-');
  const fleet = await makeFleet(root, new Date(Date.now() - 2 * HOUR));
  await writeFile(join(root, 'repo/overlays/cohort-2/cache.yaml'), bareCache); // the next cohort's desired state is clean
  const store = join(root, 'history.db');

  const empty = join(root, 'empty.db');
  t.equal((await runCli(['rollout', 'status', '--fleet', fleet, '--history', empty, '--format', 'json'])).code, 2, 'a store that does not exist is a usage error');

  // Night 1: c1-a (cohort 1, at the current stage) runs a pod without resources.
  t.equal((await runCli(['scan', '--fleet', fleet, '--history', store, '--format', 'json', '--output', join(root, 'n1.json')])).code, 0);
  let s = await status(fleet, store);
  t.equal(s.next.state, 'blocked');
  t.match(s.next.blockers, [{ kind: 'finding', cluster: 'c1-a', policy: 'quota.container-resources', resource: 'Pod shop/debug', message: /seen in the soak window/ }]);

  // The pod is fixed: live, the gate would hold, but night 1 is inside the soak window and still counts.
  await writeFile(join(root, 'clusters/c1-a/pods.yaml'), barePod.replace('image: "busybox:1.36" }', `image: "busybox:1.36", resources: ${resources} }`));
  t.equal((await runCli(['scan', '--fleet', fleet, '--history', store, '--format', 'json', '--output', join(root, 'n2.json')])).code, 0);
  s = await status(fleet, store);
  t.equal(s.next.state, 'blocked', 'one bad run in the soak blocks');
  const live = JSON.parse((await runCli(['rollout', 'status', '--fleet', fleet, '--format', 'json'])).stdout).rollouts[0];
  t.equal(live.next.state, 'ready', 'without --history the gate reads the clusters now');

  // A store whose window holds only clean runs: ready.
  const clean = join(root, 'clean.db');
  t.equal((await runCli(['scan', '--fleet', fleet, '--history', clean, '--format', 'json', '--output', join(root, 'n3.json')])).code, 0);
  s = await status(fleet, clean);
  t.equal(s.next.state, 'ready', s.next.reason);

  // A store that never recorded the cluster at the current stage cannot vouch for it.
  const other = join(root, 'fleet-other.yaml');
  await writeFile(other, (await import('node:fs')).readFileSync(fleet, 'utf8').replace(/  - \{ name: c1-a.*\n/, ''));
  const partial = join(root, 'partial.db');
  t.equal((await runCli(['scan', '--fleet', other, '--history', partial, '--format', 'json', '--output', join(root, 'n4.json')])).code, 0);
  s = await status(fleet, partial);
  t.equal(s.next.state, 'blocked');
  t.match(s.next.blockers, [{ kind: 'unknown', cluster: 'c1-a', message: /no run of the history store recorded it since/ }]);
});
