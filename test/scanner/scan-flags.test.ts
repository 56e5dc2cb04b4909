// scan --param (as lint and serve have it) and where a long scan is when nobody watches a terminal (a CronJob).
import t from 'tap';
import { runCli } from '../helpers/cli.js';
import { progressReporter } from '../../scanner/progress.js';

type Obj = Record<string, any>;
const FLEET = 'examples/fleet/fleet.yaml';

async function findings(args: string[]): Promise<Record<string, number>> {
  const r = await runCli(['scan', '--fleet', FLEET, '--format', 'json', ...args]);
  if (r.code !== 0) throw new Error(`scan exited ${r.code}: ${r.stderr}`);
  const out: Record<string, number> = {};
  for (const c of JSON.parse(r.stdout).clusters) for (const f of c.findings) if (f.policy.startsWith('gdpr.')) out[`${f.policy}@${c.name}`] = (out[`${f.policy}@${c.name}`] ?? 0) + 1;
  return out;
}

t.test('scan --param NAME=VALUE and POLICY:NAME=VALUE override the fleet file', async (t) => {
  const base = await findings([]);
  t.ok(base['gdpr.personal-data-residency@sin01'], 'personal data on an apac cluster is found with euRegions [europe] from fleet.yaml');
  t.notOk(base['gdpr.namespace-declares-data-class@sin01'], 'apac is not EU: no data-class rule there');

  const all = await findings(['--param', 'euRegions=[europe, apac]']);
  t.notOk(all['gdpr.personal-data-residency@sin01'], 'apac counted as EU: residency holds');
  t.ok(all['gdpr.namespace-declares-data-class@sin01'], 'and every policy declaring euRegions sees it');

  const one = await findings(['--param', 'gdpr.personal-data-residency:euRegions=[europe, apac]']);
  t.notOk(one['gdpr.personal-data-residency@sin01'], 'the named policy gets it');
  t.notOk(one['gdpr.namespace-declares-data-class@sin01'], 'the others keep the fleet file value');

  const bad = await runCli(['scan', '--fleet', FLEET, '--param', 'euRegions']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--param "euRegions" must look like NAME=VALUE/);
  const help = await runCli(['scan', '--help']);
  t.match(help.stdout, /--param NAME=VALUE/);
});

t.test('Pod Security exemptions are counted per cluster, not reported (issue #19)', async (t) => {
  const r = await runCli(['scan', '--fleet', FLEET, '--format', 'json']);
  const clusters: Obj[] = JSON.parse(r.stdout).clusters;
  const par01 = clusters.find((c) => c.name === 'par01')!;
  t.ok(par01.exempt >= 1, 'the system namespace pods of par01 are counted as exempt');
  t.notOk(
    par01.findings.some((f: Obj) => f.policy.startsWith('pss.') && f.resource.namespace === 'kube-system'),
    'and none of their pss findings is reported',
  );
});

t.test('off a terminal, scan logs JSON progress lines: clusters done/total, rate, ETA', async (t) => {
  const r = await runCli(['scan', '--fleet', FLEET, '--format', 'json', '--progress-interval', '0']);
  t.equal(r.code, 0);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Obj);
  const progress = lines.filter((l) => l.msg.startsWith('scan'));
  t.same(progress.map((l) => l.done), [1, 2, 3, 4, 5, 6], 'one line per cluster with --progress-interval 0');
  for (const l of progress) {
    t.equal(l.total, 6);
    t.equal(l.level, 'info');
    t.ok(Number.isFinite(Date.parse(l.time)), 'a timestamp');
    t.type(l.clustersPerSecond, 'number');
    t.ok(l.etaSeconds === null || typeof l.etaSeconds === 'number', 'an ETA');
  }
  t.equal(progress.at(-1)!.msg, 'scan finished reading clusters');
  t.equal(progress.at(-1)!.etaSeconds, 0);
  t.notMatch(r.stderr, /\r|\[#/, 'no progress bar off a terminal');
  t.doesNotThrow(() => JSON.parse(r.stdout), 'the report on stdout is untouched');

  const quiet = await runCli(['scan', '--fleet', FLEET, '--format', 'json', '--progress-interval', '3600']);
  const q = quiet.stderr.split('\n').filter((l) => l.startsWith('{"level":"info"') && l.includes('"msg":"scan'));
  t.same(q.map((l) => JSON.parse(l).done), [1, 6], 'a long interval: the first cluster and the end only');
  t.equal((await runCli(['scan', '--fleet', FLEET, '--progress-interval', 'soon'])).code, 2);
});

t.test('the progress reporter: interval, rate and ETA from a clock', async (t) => {
  let now = 0;
  const out: Obj[] = [];
  const report = progressReporter({ tty: false, write: (s) => out.push(JSON.parse(s)), intervalMs: 10_000, now: () => now });
  for (let done = 1; done <= 10; done++) {
    now = done * 4_000; // a cluster every 4 s
    report(done, 10);
  }
  t.same(out.map((l) => l.done), [1, 4, 7, 10], 'a line when 10 s have passed since the last, and the last one');
  t.same([out[1].clustersPerSecond, out[1].etaSeconds, out[1].percent], [0.25, 24, 40], '4 clusters in 16 s: 0.25/s, 6 left → 24 s');
  const tty: string[] = [];
  const bar = progressReporter({ tty: true, write: (s) => tty.push(s), intervalMs: 10_000 });
  bar(1, 2);
  bar(2, 2);
  t.match(tty.join(''), /\r\[#{15}-{15}\] 1\/2 clusters\r\[#{30}\] 2\/2 clusters\n/, 'a bar on a terminal');
});
