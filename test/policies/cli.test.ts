import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import t from 'tap';
import { cliCommand } from '../helpers/cli.js';

// Spawns the real CLI (dist/, built by `npm test` before tap runs) over examples/manifests and the shared real-world corpus.

const ROOT = resolve(import.meta.dirname, '../..');
const BUILT = existsSync(resolve(ROOT, 'dist/src/cli/main.js'));
const CORPUS = resolve(ROOT, '../shared/corpus/real');

interface Report {
  findings: { policy: string; resource: { kind: string; name: string }; path: string; source?: { file: string; line: number } }[];
  errors: { file: string; message: string }[];
  summary: unknown;
}

const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TAP') && !k.startsWith('_TAPJS')));

function lint(args: string[]) {
  const r = spawnSync(...cliCommand(['lint', '--format', 'json', ...args]), {
    cwd: ROOT,
    env: ENV,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  let report: Report | undefined;
  let parseError: unknown;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch (err) {
    parseError = err;
  }
  return { status: r.status, stderr: r.stderr, report, parseError };
}

t.test('lint examples/manifests', { skip: BUILT ? false : 'dist/ is missing: run `npx tsc -p .` (npm test builds first)' }, async (t) => {
  const r = lint(['examples/manifests']);
  t.equal(r.parseError, undefined, 'prints valid JSON');
  t.equal(r.status, 1, 'exits 1: the sloppy tenant fails on purpose');
  t.notMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace on stderr');
  const report = r.report!;
  t.same(report.errors, [], 'every example document loads');
  const fired = new Set(report.findings.map((f) => f.policy));
  for (const id of [
    'isolation.namespace-default-deny',
    'isolation.no-host-namespaces',
    'isolation.rbac-stays-in-namespace',
    'quota.namespace-has-resourcequota',
    'quota.namespace-has-limitrange',
    'quota.container-resources',
    'quota.within-cluster-maximum',
    'mesh.namespace-sidecar-injection',
    'mesh.peer-authentication-strict',
    'mesh.destination-rule-mutual-tls',
    'mesh.service-entry-locality',
  ])
    t.ok(fired.has(id), `the examples show ${id} failing`);
  const mine = report.findings.filter((f) => /^(isolation|quota|gdpr|mesh)\./.test(f.policy));
  t.ok(
    mine.every((f) => f.source && f.source.file.startsWith('examples/manifests/') && f.source.line > 0),
    'every finding of these packs carries file:line',
  );
  t.notOk(
    mine.some((f) => f.source!.file.startsWith('examples/manifests/shop/')),
    'the tenant done right (shop/) has no isolation, quota, gdpr or mesh finding',
  );
  t.ok(
    mine.some((f) => f.source!.file === 'examples/manifests/sloppy/everything.yaml' && f.policy === 'isolation.no-host-namespaces'),
    'findings inside the kind: List point into its items',
  );
});

t.test('lint examples/manifests with cluster labels switches the gdpr pack on', { skip: BUILT ? false : 'dist/ is missing' }, async (t) => {
  const eu = lint(['examples/manifests', '--cluster-label', 'region=europe']);
  const us = lint(['examples/manifests', '--cluster-label', 'region=us-east']);
  const ids = (r: ReturnType<typeof lint>) => new Set(r.report?.findings.map((f) => f.policy) ?? []);
  t.ok(ids(eu).has('gdpr.no-egress-outside-eu') && ids(eu).has('gdpr.namespace-declares-data-class'), 'region=europe: the EU rules fire');
  t.notOk(ids(eu).has('gdpr.personal-data-residency'), 'region=europe: personal data may live here');
  t.ok(ids(us).has('gdpr.personal-data-residency'), 'region=us-east: personal data is out of place');
  t.notOk(ids(us).has('gdpr.no-egress-outside-eu'), 'region=us-east: EU egress rules are off');
});

t.test('lint the real-world corpus', { skip: !BUILT ? 'dist/ is missing' : existsSync(CORPUS) ? false : `corpus not found at ${CORPUS}` }, async (t) => {
  const r = lint(['../shared/corpus/real']);
  t.equal(r.parseError, undefined, 'prints valid JSON');
  // A few upstream files repeat a map key; the loader reports those documents (exit 2, "unusable input") and lints
  // the rest. Anything else than 0/1, or 2 with those reported errors, is a crash.
  const errors = r.report?.errors ?? [];
  t.ok(
    r.status === 0 || r.status === 1 || (r.status === 2 && errors.length > 0),
    `exit code is 0/1, or 2 with reported input errors, not a crash (got ${r.status}; stderr: ${r.stderr.slice(0, 300)})`,
  );
  t.ok(errors.every((e) => e.file && e.message), 'input errors name the file and say what is wrong');
  t.notMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace on stderr');
  t.same(r.report?.findings.filter((f) => /^(isolation|quota|gdpr|mesh)\./.test(f.policy) && (f as { error?: boolean }).error), [], 'no policy of these packs threw');
  t.ok((r.report?.findings.length ?? 0) > 0, 'real-world manifests do produce findings');
});
