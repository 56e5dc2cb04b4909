import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { cliCommand } from '../helpers/cli.js';
import { inProcessEvaluator, loadPaths, type Finding, type KubeObject } from '../../src/index.js';
import { policies as pss } from '../../policies/pod-security/index.js';

/**
 * Conformance with upstream Pod Security Admission: every fixture of kubernetes/pod-security-admission
 * `test/testdata/{baseline,restricted}/v1.37/{pass,fail}` (kept outside the repo, in ../shared/corpus/psa)
 * must get upstream's verdict at its level — pass: no pss finding of that level; fail: a finding of the check
 * its file name names, whose message has upstream's expected substring. The same pods wrapped in a Deployment
 * and a CronJob must get the same findings, with paths inside the template.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// ../shared beside the clone; a git worktree under <clone>/../wt/<name> finds it one level further up.
const corpus = [resolve(repoRoot, '..', 'shared', 'corpus', 'psa'), resolve(repoRoot, '..', '..', 'shared', 'corpus', 'psa')].find((p) => existsSync(p)) ?? resolve(repoRoot, '..', 'shared', 'corpus', 'psa');
const VERSION = 'v1.37';

/** Fixture-file prefix (upstream check id, lower-cased) → policy id and upstream's expected message substring. */
const CHECKS: Record<string, { id: string; substring: string }> = {
  allowprivilegeescalation: { id: 'pss.restricted.allow-privilege-escalation', substring: 'allowPrivilegeEscalation' },
  apparmorprofile: { id: 'pss.baseline.apparmor-profile', substring: 'forbidden AppArmor profile' },
  capabilities_baseline: { id: 'pss.baseline.capabilities', substring: 'capabilities' },
  capabilities_restricted: { id: 'pss.restricted.capabilities', substring: 'unrestricted capabilities' },
  hostnamespaces: { id: 'pss.baseline.host-namespaces', substring: 'host namespaces' },
  hostpathvolumes: { id: 'pss.baseline.host-path-volumes', substring: 'hostPath' },
  hostports: { id: 'pss.baseline.host-ports', substring: 'hostPort' },
  hostprobesandhostlifecycle: { id: 'pss.baseline.host-probes-and-host-lifecycle', substring: 'probe or lifecycle host' },
  privileged: { id: 'pss.baseline.privileged', substring: 'privileged' },
  procmount: { id: 'pss.baseline.proc-mount', substring: 'procMount' },
  procmount_restricted: { id: 'pss.restricted.proc-mount', substring: 'procMount' },
  restrictedvolumes: { id: 'pss.restricted.restricted-volumes', substring: 'restricted volume types' },
  runasnonroot: { id: 'pss.restricted.run-as-non-root', substring: 'runAsNonRoot' },
  runasuser: { id: 'pss.restricted.run-as-user', substring: 'runAsUser' },
  seccompprofile_baseline: { id: 'pss.baseline.seccomp-profile', substring: 'seccompProfile' },
  seccompprofile_restricted: { id: 'pss.restricted.seccomp-profile', substring: 'seccompProfile' },
  selinuxoptions: { id: 'pss.baseline.selinux-options', substring: 'seLinuxOptions' },
  sysctls: { id: 'pss.baseline.sysctls', substring: 'forbidden sysctl' },
  windowshostprocess: { id: 'pss.baseline.windows-host-process', substring: 'hostProcess' },
};

const LEVELS = ['baseline', 'restricted'] as const;
type FixtureLevel = (typeof LEVELS)[number];

/** Which findings count at a level: baseline checks only, or baseline and restricted ones. */
const atLevel = (level: FixtureLevel) => (f: Finding) =>
  f.policy.startsWith('pss.baseline.') || (level === 'restricted' && f.policy.startsWith('pss.restricted.'));

function checkOf(file: string): { id: string; substring: string } | undefined {
  return CHECKS[basename(file, '.yaml').replace(/\d+$/, '')];
}

const engine = inProcessEvaluator(pss, { name: 'conformance' });

function judge(objects: KubeObject[]): Finding[] {
  return engine.evaluate(objects.map((object) => ({ object })), { now: new Date('2026-01-01T00:00:00Z') }).findings;
}

function wrap(kind: 'Deployment' | 'CronJob', pod: KubeObject): KubeObject {
  const template = { metadata: { labels: { app: 'x' }, annotations: pod.metadata?.annotations }, spec: pod.spec };
  const name = pod.metadata?.name;
  return kind === 'Deployment'
    ? { apiVersion: 'apps/v1', kind, metadata: { name }, spec: { selector: { matchLabels: { app: 'x' } }, template } }
    : { apiVersion: 'batch/v1', kind, metadata: { name }, spec: { schedule: '0 * * * *', jobTemplate: { spec: { template } } } };
}

const TEMPLATE_PREFIX = { Deployment: '$.spec.template', CronJob: '$.spec.jobTemplate.spec.template' } as const;
const signature = (fs: Finding[], prefix = '$') =>
  fs.map((f) => `${f.policy} ${f.path.startsWith(prefix) ? '$' + f.path.slice(prefix.length) : `(outside template) ${f.path}`} ${f.message}`).sort();

const fixtureDirs = existsSync(corpus)
  ? LEVELS.flatMap((level) =>
      (['pass', 'fail'] as const).map((verdict) => ({ level, verdict, dir: join(corpus, 'testdata', level, VERSION, verdict) })),
    )
  : [];

if (!fixtureDirs.length) {
  t.comment(`SKIP upstream PSA conformance: ${corpus} not found (clone ../shared beside the repo to run it)`);
  t.pass('upstream PSA fixtures not available; conformance skipped', { skip: `no ${corpus}` });
} else {
  let total = 0;
  let agreed = 0;

  for (const { level, verdict, dir } of fixtureDirs) {
    t.test(`${level}/${VERSION}/${verdict}`, async (t) => {
      const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
      t.ok(files.length > 0, `${dir} has fixtures`);
      for (const file of files) {
        total++;
        const loaded = await loadPaths([join(dir, file)]);
        t.same(loaded.errors, [], `${file} loads`);
        const pod = loaded.resources[0]?.object;
        if (!pod) continue;
        const own = judge([pod]).filter(atLevel(level));
        let ok: boolean;
        if (verdict === 'pass') {
          ok = own.length === 0;
          t.ok(ok, `${level}/${verdict}/${file}: no pss.${level} finding`, { found: own.map((f) => `${f.policy}: ${f.message}`) });
        } else {
          const check = checkOf(file);
          const hit = check && own.find((f) => f.policy === check.id);
          ok = !!hit && hit.message.includes(check.substring);
          t.ok(ok, `${level}/${verdict}/${file}: ${check?.id ?? '(unknown check)'} with "${check?.substring}"`, {
            found: own.map((f) => `${f.policy}: ${f.message}`),
          });
        }
        if (ok) agreed++;

        // Autogen: the same pod as a Deployment and a CronJob template gets the same findings, inside the template.
        for (const kind of ['Deployment', 'CronJob'] as const) {
          const wrapped = judge([wrap(kind, pod)]).filter(atLevel(level));
          t.same(signature(wrapped, TEMPLATE_PREFIX[kind]), signature(own), `${level}/${verdict}/${file} as a ${kind}: same verdict, paths in the template`);
        }
      }
    });
  }

  t.test('all upstream fixtures agree', async (t) => {
    t.equal(total, 148, 'the v1.37 corpus has 148 fixtures');
    t.equal(agreed, total, `${agreed}/${total} fixtures agree with upstream`);
  });

  t.test('fleetgate lint --format json names the expected check for every fail fixture', async (t) => {
    if (!existsSync(join(repoRoot, 'dist', 'src', 'cli', 'main.js'))) {
      t.skip('dist/ is not built (npm test builds it first)');
      return;
    }
    for (const level of LEVELS) {
      const dir = join(corpus, 'testdata', level, VERSION, 'fail');
      const run = spawnSync(...cliCommand(['lint', dir, '--format', 'json']), {
        cwd: repoRoot,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      t.equal(run.status, 1, `${level}: exit 1 (deny findings)`, { stderr: run.stderr });
      const report = JSON.parse(run.stdout) as { findings: Finding[]; errors: unknown[] };
      t.same(report.errors, [], `${level}: no input errors`);
      const byName = new Map<string, Set<string>>();
      // One finding per field: a check another policy found the same field for is named in that finding's `also`.
      for (const f of report.findings.filter((x) => atLevel(level)(x) || (x.also ?? []).some((id) => atLevel(level)({ ...x, policy: id })))) {
        let set = byName.get(f.resource.name);
        if (!set) byName.set(f.resource.name, (set = new Set()));
        set.add(f.policy);
        for (const id of f.also ?? []) set.add(id);
      }
      const missing = readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .filter((f) => !byName.get(basename(f, '.yaml'))?.has(checkOf(f)?.id ?? '?'));
      t.same(missing, [], `${level}: every fail fixture has its check's finding in the CLI's JSON`);
    }
  });
}
