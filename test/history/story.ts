import type { Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from '../helpers/cli.js';

/**
 * The story both history CLI tests tell (cli.test.ts on the embedded store, cli-postgres.test.ts on PostgreSQL).
 * The history commands end to end, as a user runs them: the example fleet copied into a git repo, a scan, a change
 * committed to the config repo, more scans, and what `history diff|convergence|finding|cluster|trend` say — on the
 * embedded store and on a real PostgreSQL server. The HTML is checked in headless Chromium.
 */

export const SECRET_DESIRED = 'desired-pw-PLANTED-4711';
export const SECRET_LIVE = 'live-pw-PLANTED-0815';

function git(dir: string, ...args: string[]) {
  execFileSync('git', ['-C', dir, '-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { stdio: 'pipe' });
}

/** The example fleet in a git repo of its own, with a Secret planted in the repo and (with another value) live. */
function fleetRepo(dir: string): string {
  const f = join(dir, 'fleet');
  cpSync(join(ROOT, 'examples/fleet'), f, { recursive: true });
  const secret = (v: string) =>
    `apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\ndata: {password: ${Buffer.from(v).toString('base64')}}\nstringData: {token: ${v}}\n`;
  writeFileSync(join(f, 'config-repo/base/secret.yaml'), secret(SECRET_DESIRED));
  writeFileSync(join(f, 'clusters/par01/secrets.yaml'), secret(SECRET_LIVE));
  git(f, 'init', '-q');
  git(f, 'add', '-A');
  git(f, 'commit', '-qm', 'initial fleet');
  return f;
}

function setPods(file: string, from: string, to: string, count = 1) {
  let s = readFileSync(file, 'utf8');
  for (let i = 0; i < count; i++) s = s.replace(`pods: '${from}'`, `pods: '${to}'`);
  writeFileSync(file, s);
}

function chromiumDom(file: string): string {
  const profile = mkdtempSync(join(tmpdir(), 'fleetgate-chromium-'));
  try {
    const r = spawnSync(
      'chromium',
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--dump-dom', `file://${file}`],
      { encoding: 'utf8', timeout: 90_000 },
    );
    if (r.status !== 0) throw new Error(`chromium failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

export async function story(t: Test, dir: string, store: string) {
  const f = fleetRepo(dir);
  const fleetFile = join(f, 'fleet.yaml');
  const scan = (...extra: string[]) => runCli(['scan', '--fleet', fleetFile, '--history', store, ...extra]);
  const hist = (...args: string[]) => runCli(['history', ...args, '--history', store]);

  const s1 = await scan('--format', 'json');
  t.equal(s1.code, 0, s1.stderr);
  const diff0 = await hist('diff');
  t.equal(diff0.code, 2, 'diff needs two runs');
  t.match(diff0.stderr, /has 1 run: diff needs two/);

  // A change in the config repo: edge clusters get 40 pods per tenant namespace.
  setPods(join(f, 'config-repo/overlays/cluster-type-edge/quotas.yaml'), '30', '40');
  git(f, 'commit', '-qam', 'edge: 40 pods per tenant');
  const s2 = await scan('--format', 'json');
  t.equal(s2.code, 0, s2.stderr);

  const d = await hist('diff', '--format', 'json');
  t.equal(d.code, 0, d.stderr);
  const diff = JSON.parse(d.stdout);
  const quota = diff.newDrift.filter((x: { resource: string }) => x.resource === 'ResourceQuota shop/tenant-quota');
  t.same(quota.map((x: { cluster: string }) => x.cluster).sort(), ['ams01', 'par01', 'sin01'], 'new drift on the reachable edge clusters');
  t.same(quota[0].diffs, [{ path: '$.spec.hard.pods', desired: '40', live: '30' }], 'with the difference');
  t.same(diff.statusChanges, [], 'no cluster changed status');
  const pretty = await runCli(['history', 'diff', '--history', store, '--format', 'pretty']);
  t.match(pretty.stdout, /New drift[\s\S]*par01  modified ResourceQuota shop\/tenant-quota: \$\.spec\.hard\.pods desired "40", live "30"/);

  const c = await runCli(['history', 'convergence', '--history', store, '--fleet', fleetFile, '--format', 'json']);
  t.equal(c.code, 1, 'not converged past the (zero) grace: exit 1');
  const conv = JSON.parse(c.stdout);
  t.equal(conv.commit.subject, 'edge: 40 pods per tenant');
  const obj = conv.objects.find((o: { resource: string }) => o.resource === 'ResourceQuota shop/tenant-quota');
  t.same([obj.clusters, obj.inSync], [4, 0], 'every edge cluster should have it; none has it yet');
  t.same(
    obj.differing.map((x: { cluster: string; state: string }) => `${x.cluster}:${x.state}`).sort(),
    ['ams01:modified', 'par01:modified', 'sin01:modified', 'tyo01:unreachable'],
    'which differ, and why',
  );
  const within = await runCli(['history', 'convergence', '--history', store, '--fleet', fleetFile, '--grace', '1d', '--format', 'json']);
  t.equal(within.code, 0, 'within the grace period: exit 0');

  // par01 picks the change up.
  setPods(join(f, 'clusters/par01/resourcequotas.yaml'), '30', '40');
  const s3 = await scan('--format', 'html', '--output', join(dir, 'report.html'));
  t.equal(s3.code, 0, s3.stderr);
  const c3 = JSON.parse((await runCli(['history', 'convergence', '--history', store, '--fleet', fleetFile, '--format', 'json'])).stdout);
  const o3 = c3.objects.find((o: { resource: string }) => o.resource === 'ResourceQuota shop/tenant-quota');
  t.same([o3.inSync, o3.synced.map((x: { cluster: string }) => x.cluster)], [1, ['par01']], 'par01 converged');
  t.equal(o3.synced[0].since, c3.run.time, 'since the run that saw it');
  t.equal(o3.differing.find((x: { cluster: string }) => x.cluster === 'ams01').since < c3.run.time, true, 'ams01 differs since the first run after the commit');

  const dom = chromiumDom(join(dir, 'report.html'));
  t.match(dom, /Scanned \d{4}-\d\d-\d\dT/, 'scan time in the header');
  t.match(dom, /config commit <code>[0-9a-f]{12}<\/code>/, 'config commit in the header');
  t.match(dom, /Fleet score, last 3 runs/, 'fleet trend chart');
  t.match(dom, /Fixed since last run:[\s\S]*drift modified ResourceQuota shop\/tenant-quota/, 'fixed since last run');
  t.match(dom, /Convergence of commit/, 'convergence of the config commit');
  t.match(dom, /id="f-critical"/, 'filter controls');
  t.notMatch(dom, /<script/, 'still no script');

  const cl = await hist('cluster', 'par01', '--format', 'json');
  t.equal(cl.code, 0, cl.stderr);
  const timeline = JSON.parse(cl.stdout).timeline;
  t.equal(timeline.length, 3, 'three runs of par01');
  t.ok(timeline[2].drift < timeline[1].drift, 'par01 drifts less after picking the change up');
  const report = JSON.parse(s1.stdout);
  const anyFinding = report.clusters.find((x: { name: string }) => x.name === 'par01').findings[0];
  const { fingerprint } = await import('../../history/index.js');
  const fp = fingerprint('par01', anyFinding);
  const fd = await hist('finding', fp, '--format', 'json');
  t.equal(fd.code, 0, fd.stderr);
  t.same([JSON.parse(fd.stdout).finding.policy, JSON.parse(fd.stdout).timeline.length], [anyFinding.policy, 3], 'finding timeline');
  t.equal((await hist('finding', 'ffffffffffff')).code, 2, 'unknown fingerprint: exit 2');

  const tr = await runCli(['history', 'trend', '--history', store, '--format', 'html', '--output', join(dir, 'trend.html')]);
  t.equal(tr.code, 0, tr.stderr);
  const tdom = chromiumDom(join(dir, 'trend.html'));
  t.match(tdom, /<svg[^>]*class="trend"/, 'trend charts render');
  t.match(tdom, /Score by region/);
  const tj = JSON.parse((await hist('trend', '--format', 'json')).stdout);
  t.equal(tj.runs.length, 3);
  t.same(Object.keys(tj.by), ['region', 'cohort']);
  return f;
}

