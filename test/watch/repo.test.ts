import { cpSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { judged, scanNow, startWatch, until, watchFixture } from './fixture.js';

/**
 * The config repo changes under a running watch: a file edited in the checkout, and a new checkout swapped in by
 * moving a symlink (what git-sync does). Each time only the desired state is re-rendered and the clusters re-judged,
 * and the result is what scan reports for the new repo.
 */
t.test('desired state follows the config repo: file edits and symlink swaps', async (t) => {
  const fx = await watchFixture([{ name: 'par01' }]);
  t.teardown(() => fx.close());
  // repo → commit-a (a symlink, as git-sync's `current`)
  const a = join(fx.dir, 'commit-a');
  cpSync(fx.repo, a, { recursive: true });
  rmSync(fx.repo, { recursive: true });
  symlinkSync(a, fx.repo);
  const { watch } = await startWatch(fx, { repoPollMs: 100 });
  t.teardown(() => watch.stop());
  t.ok(await until(() => watch.ready()), 'every cluster synced');
  const par = () => watch.report().clusters[0];
  const matchesScan = async () => JSON.stringify(judged(par())) === JSON.stringify(judged((await scanNow(fx)).clusters[0]));
  t.ok(await until(matchesScan), 'as scan at first');
  const before = par().desired;

  // an edit in the checkout: one more desired object, missing on the cluster
  writeFileSync(join(a, 'base', 'extra.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: tenant-00}\ndata: {k: v}\n');
  t.ok(await until(() => par().drift.some((d) => d.resource.name === 'extra' && d.state === 'missing')), 'the new desired object is missing live');
  t.equal(par().desired, before + 1);
  t.ok(await until(matchesScan), 'as scan after the edit');

  // git-sync: a new checkout in a new folder, then the link is swapped atomically
  const b = join(fx.dir, 'commit-b');
  cpSync(a, b, { recursive: true });
  rmSync(join(b, 'base', 'extra.yaml'));
  writeFileSync(join(b, 'base', 'other.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: tenant-01}\ndata: {k: v}\n');
  symlinkSync(b, join(fx.dir, 'repo.new'));
  renameSync(join(fx.dir, 'repo.new'), fx.repo);
  t.ok(await until(() => par().drift.some((d) => d.resource.name === 'other')), 'the swapped-in commit is the desired state');
  t.notOk(par().drift.some((d) => d.resource.name === 'extra'), 'the old one is gone');
  t.ok(await until(matchesScan), 'as scan after the swap');
});
