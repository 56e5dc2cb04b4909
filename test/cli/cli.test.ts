import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';

const LINT = 'test/fixtures/core/lint';
const USER = 'test/fixtures/core/user-policies';

t.test('lint --format json: findings with file:line:column, errors, summary; exit 2 on a broken document', async (t) => {
  const r = await runCli(['lint', LINT, '--format', 'json']);
  t.equal(r.code, 2, 'a broken document makes the input unusable, but the rest is linted');
  const out = JSON.parse(r.stdout);
  t.same(Object.keys(out), ['findings', 'errors', 'summary']);
  const hostNs = out.findings.filter((f: { policy: string }) => f.policy === 'isolation.no-host-namespaces');
  t.same(
    hostNs.map((f: { resource: { name: string }; path: string; source: { file: string; line: number } }) => [f.resource.name, f.path, f.source.file, f.source.line]),
    [
      ['ipc', '$.spec.hostIPC', `${LINT}/list.json`, 15],
      ['agent', '$.spec.template.spec.hostNetwork', `${LINT}/multi.yaml`, 10],
      ['host-pid', '$.spec.hostPID', `${LINT}/multi.yaml`, 28],
    ],
    'kube-system is exempt; the List item and the Deployment template are judged',
  );
  t.match(out.errors, [{ file: `${LINT}/multi.yaml`, line: 21 }]);
  t.match(out.summary, { files: 3, skipped: 1, errors: 1, exempt: 1 }, 'the kube-system pod is counted as exempt from Pod Security, not reported');
});

t.test('exit codes: 0 clean, 1 findings, 2 bad arguments; --fail-on raises the bar', async (t) => {
  const clean = await runCli(['lint', '-', '--format', 'json'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: kube-system}\n' });
  t.equal(clean.code, 0);
  const bad = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {hostPID: true, containers: [{name: a, image: a}]}\n';
  const dirty = await runCli(['lint', '-', '--format', 'json'], { input: bad });
  t.equal(dirty.code, 1);
  const hostPid = JSON.parse(dirty.stdout).findings.filter((f: { policy: string }) => f.policy === 'isolation.no-host-namespaces');
  t.match(hostPid, [{ source: { file: '<stdin>', line: 4 } }]);
  t.equal((await runCli(['lint', '-', '--format', 'json', '--fail-on', 'critical', '--no-builtins', '--policies', USER], { input: bad })).code, 0);
  t.equal((await runCli(['lint', '-', '--format', 'json', '--action', '*=audit'], { input: bad })).code, 0, 'audit findings never fail');
  const usage = await runCli(['lint', LINT, '--cluster-label', 'nonsense']);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /--cluster-label "nonsense" must look like KEY=VALUE/);
  t.equal((await runCli(['lint', LINT, '--format', 'xml'])).code, 2);
  t.equal((await runCli(['lint'])).code, 2);
  t.equal((await runCli(['lint', '--bogus', LINT])).code, 2);
});

t.test('pretty output names file:line:column and the policy', async (t) => {
  const r = await runCli(['lint', `${LINT}/multi.yaml`, '--format', 'pretty']);
  t.match(r.stdout, `${LINT}/multi.yaml:10:7  high     deny   isolation.no-host-namespaces`);
  t.match(r.stdout, /pod sets hostNetwork: true/);
  t.match(r.stdout, `${LINT}/multi.yaml:21:1  error`);
  t.notMatch(r.stdout, /\u001b\[/, 'no colours when NO_COLOR is set / not a TTY');
});

t.test('SARIF 2.1.0 as code scanning wants it', async (t) => {
  const r = await runCli(['lint', LINT, '--format', 'sarif']);
  const sarif = JSON.parse(r.stdout);
  t.equal(sarif.version, '2.1.0');
  const run = sarif.runs[0];
  t.equal(run.tool.driver.name, 'fleetgate');
  t.ok(run.tool.driver.rules.some((rule: { id: string; properties: Record<string, string> }) => rule.id === 'isolation.no-host-namespaces' && rule.properties['security-severity']));
  const res = run.results.find((x: { ruleId: string }) => x.ruleId === 'isolation.no-host-namespaces');
  t.equal(res.level, 'error');
  t.equal(run.tool.driver.rules[res.ruleIndex].id, res.ruleId, 'ruleIndex points at the rule');
  t.match(res.locations[0].physicalLocation, { artifactLocation: { uri: /^test\/fixtures\/core\/lint\//, uriBaseId: '%SRCROOT%' }, region: { startLine: Number } });
  t.equal(run.invocations[0].executionSuccessful, false);
  t.match(run.invocations[0].toolExecutionNotifications[0], { level: 'error', locations: [{ physicalLocation: { region: { startLine: 21 } } }] });
});

t.test('JUnit XML: a suite per policy, failing cases per resource, input errors as errors', async (t) => {
  const dir = await tempDir(t, 'fleetgate-junit-');
  const out = join(dir, 'report.xml');
  const r = await runCli(['lint', LINT, '--format', 'junit', '--output', out]);
  t.equal(r.stdout, '', '--output writes the file, not stdout');
  const xml = await readFile(out, 'utf8');
  t.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="fleetgate" tests="\d+" failures="\d+" errors="1">/);
  t.match(xml, /<testsuite name="isolation.no-host-namespaces" tests="3" failures="3" errors="0">/);
  t.match(xml, /<testcase classname="isolation.no-host-namespaces" name="Deployment shop\/agent"><failure type="high"/);
  t.match(xml, /<testsuite name="fleetgate.input" tests="1" failures="0" errors="1">/);
});

t.test('user TypeScript policies load at run time with no build step', async (t) => {
  const input = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n    - {name: a, image: "nginx:latest"}\n';
  const r = await runCli(['lint', '-', '--format', 'json', '--policies', USER], { input });
  t.equal(r.code, 1);
  const own = JSON.parse(r.stdout).findings.filter((f: { policy: string }) => f.policy === 'acme.no-latest-tag');
  t.match(own, [{ action: 'warn', path: '$.spec.containers[0].image', source: { line: 6 } }]);
  t.equal(own.length, 1);
  const list = await runCli(['policies', '--policies', USER, '--format', 'json']);
  t.ok(JSON.parse(list.stdout).some((p: { id: string }) => p.id === 'isolation.no-host-namespaces'), 'built-ins are listed');
  t.ok(JSON.parse(list.stdout).some((p: { id: string; file: string }) => p.id === 'acme.no-latest-tag' && p.file.endsWith('no-latest.ts')));
});

t.test('a broken user policy is an error naming its file; the rest still runs', async (t) => {
  const input = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {hostPID: true, containers: [{name: a, image: "a:1"}]}\n';
  const r = await runCli(['lint', '-', '--format', 'json', '--policies', 'test/fixtures/core/broken-policy'], { input });
  t.equal(r.code, 2);
  const out = JSON.parse(r.stdout);
  t.match(out.errors, [{ file: 'test/fixtures/core/broken-policy/typo.ts', line: 12, message: /cannot compile policy/ }]);
  t.ok(out.findings.some((f: { policy: string }) => f.policy === 'isolation.no-host-namespaces'), 'built-in policies still ran');
});

t.test('fleetgate test runs policy examples and PolicyTest files', async (t) => {
  const ok = await runCli(['test', USER, '--policies', USER]);
  t.equal(ok.code, 0, ok.stdout + ok.stderr);
  t.match(ok.stdout, /\d+ passed, 0 failed/);
  const json = JSON.parse((await runCli(['test', USER, '--policies', USER, '--format', 'json'])).stdout);
  t.ok(json.results.some((r: { name: string; file?: string; ok: boolean }) => r.name === 'no tag at all' && r.file?.endsWith('tests.yaml') && r.ok));
  const dir = await tempDir(t, 'fleetgate-test-');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(
    join(dir, 'wrong.yaml'),
    'apiVersion: fleetgate.io/v1alpha1\nkind: PolicyTest\nmetadata: {name: wrong}\nspec:\n  policy: acme.no-latest-tag\n  cases:\n    - name: claims latest passes\n      expect: pass\n      objects: [{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: a, image: "x:latest"}]}}]\n',
  );
  const failing = await runCli(['test', dir, '--policies', USER]);
  t.equal(failing.code, 1);
  t.match(failing.stdout, /FAIL acme.no-latest-tag › claims latest passes/);
  t.match(failing.stdout, /expected no finding, got 1/);
});

t.test('--help for every engine command, and the overview', async (t) => {
  for (const cmd of ['lint', 'test', 'policies']) {
    const r = await runCli([cmd, '--help']);
    t.equal(r.code, 0);
    t.match(r.stdout, `Usage: fleetgate ${cmd}`);
  }
  const r = await runCli(['--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /lint .*\n.*test .*\n.*policies/);
});

t.test('lint --param sets policy parameters for every policy or for one (values are YAML)', async (t) => {
  const personal = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: crm, labels: {fleetgate.io/data-classification: personal}}\n';
  const lint = (...flags: string[]) => runCli(['lint', '-', '--format', 'json', '--cluster-label', 'region=switzerland', ...flags], { input: personal });
  const residency = (stdout: string) => JSON.parse(stdout).findings.filter((f: { policy: string }) => f.policy === 'gdpr.personal-data-residency');
  const plain = await lint();
  t.equal(plain.code, 1);
  t.match(residency(plain.stdout), [{ message: /not in euRegions \[europe\]/ }]);
  const everyPolicy = await lint('--param', 'euRegions=[europe, switzerland]');
  t.same(residency(everyPolicy.stdout), [], 'a global parameter reaches every policy declaring it');
  const onePolicy = await lint('--param', 'gdpr.personal-data-residency:euRegions=[switzerland]');
  t.same(residency(onePolicy.stdout), [], 'POLICY:NAME sets it for that policy');
  const otherPolicy = await lint('--param', 'mesh.*:euRegions=[switzerland]');
  t.equal(residency(otherPolicy.stdout).length, 1, 'a glob that does not match the policy changes nothing');
  for (const [flag, message] of [
    ['euRegions', /must look like NAME=VALUE/],
    ['euRegions=[europe', /not valid YAML/],
    ['eu.Regions=[europe]', /not a parameter name/],
    [':euRegions=[europe]', /policy id before ":" is empty/],
  ] as const) {
    const bad = await lint('--param', flag);
    t.equal(bad.code, 2, flag);
    t.match(bad.stderr, message);
  }
});
