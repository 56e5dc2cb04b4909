// Alerts and dashboards as code (issue #16): the chart's rule files pass `promtool check rules` and their
// `promtool test rules`, and every fleetgate series that a rule, the dashboard or the docs name is one that a
// running `fleetgate serve` exports (scraped from the real binary), with the labels the docs give it.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ROOT } from '../helpers/cli.js';
import { parseExposition, type Sample } from '../helpers/prometheus.js';
import { compliantDeployment, hostPidPod, makeCerts, review } from '../helpers/webhook.js';
import { startServeProcess } from '../helpers/serve-process.js';

const run = promisify(execFile);
const chart = join(ROOT, 'charts', 'fleetgate');
const alertsDir = join(chart, 'files', 'alerts');
const dashboardsDir = join(chart, 'files', 'dashboards');
const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';
const built = existsSync(join(ROOT, 'dist', 'webhook', 'cli.js'));

/** The webhook's rule files (the watch ships its own beside them, checked by its own tests against its exporter). */
const webhookRuleFiles = ['webhook.rules.yaml'];

t.test('promtool check rules and promtool test rules', async (t) => {
  t.ok(existsSync(PROMTOOL), `promtool at ${PROMTOOL} (Debian package prometheus; .ci/run installs it)`);
  for (const f of readdirSync(alertsDir).filter((f) => f.endsWith('.rules.yaml'))) {
    const { stdout } = await run(PROMTOOL, ['check', 'rules', join(alertsDir, f)]);
    t.match(stdout, /SUCCESS: \d+ rules found/, `promtool check rules ${f}`);
  }
  const testsDir = join(ROOT, 'test', 'deploy', 'alerts');
  const tests = readdirSync(testsDir).filter((f) => f.endsWith('.test.yaml'));
  t.ok(tests.includes('webhook.test.yaml'));
  for (const f of tests) {
    const r = await run(PROMTOOL, ['test', 'rules', f], { cwd: testsDir }).catch((e) => e as { stdout: string; stderr: string; code: number });
    t.notOk('code' in r && r.code, `promtool test rules ${f}: ${r.stdout}${r.stderr}`);
  }
});

t.test('the chart includes every rule file and dashboard it names, from files/', async (t) => {
  const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8'));
  for (const name of values.prometheusRules.files) t.ok(existsSync(join(alertsDir, `${name}.rules.yaml`)), `files/alerts/${name}.rules.yaml`);
  for (const name of values.grafanaDashboards.files) t.ok(existsSync(join(dashboardsDir, `${name}.json`)), `files/dashboards/${name}.json`);
  t.same(values.grafanaDashboards.labels, { grafana_dashboard: '1' }, 'the sidecar label');
  t.equal(values.prometheusRules.enabled, false, 'opt-in');
  t.equal(values.grafanaDashboards.enabled, false, 'opt-in');
  const template = readFileSync(join(chart, 'templates', 'monitoring.yaml'), 'utf8');
  t.match(template, /files\/alerts\/%s\.rules\.yaml/);
  t.match(template, /files\/dashboards\/%s\.json/);
  t.match(template, /kind: PrometheusRule/);
});

/** Every `fleetgate_…` name in a text (PromQL, Markdown), with the label names written after it in braces, if any. */
function namesIn(text: string): Map<string, Set<string>[]> {
  const out = new Map<string, Set<string>[]>();
  for (const m of text.matchAll(/\b(fleetgate_[a-z0-9_]+)(\{[^}]*\})?/g)) {
    const labels = m[2] ? new Set([...m[2].slice(1, -1).matchAll(/([a-z_]+)\s*(?:=~|!=|!~|=|,|$)/g)].map((l) => l[1])) : undefined;
    if (!out.has(m[1])) out.set(m[1], []);
    if (labels) out.get(m[1])!.push(labels);
  }
  return out;
}

/** What the text between `<!-- metrics:webhook -->` and its closing marker says (the webhook's part of a doc). */
function webhookSection(file: string): string {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const m = /<!-- metrics:webhook -->([\s\S]*?)<!-- \/metrics:webhook -->/.exec(text);
  if (!m) throw new Error(`${file} has no <!-- metrics:webhook --> section`);
  return m[1];
}

t.test('rules, dashboard and docs name only series a running webhook exports', { skip: built ? false : 'needs npm run build' }, async (t) => {
  const certs = await makeCerts(t);
  const serve = await startServeProcess(certs);
  t.teardown(() => serve.stop());
  // Give every labelled series a sample: a denial, an allowed review, a dryRun, a bad request.
  await serve.post(review(hostPidPod()));
  await serve.post(review(compliantDeployment()));
  await serve.post(review(hostPidPod('dry'), { dryRun: true }));
  await serve.post('{not json');
  const scrape = await serve.get('/metrics');
  t.equal(scrape.status, 200);
  const samples: Sample[] = parseExposition(scrape.text);
  const types = new Map([...scrape.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
  /** The exported family a series name belongs to (x_bucket, x_sum, x_count of a histogram belong to x). */
  const family = (name: string) => {
    if (types.has(name)) return name;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return types.get(base) === 'histogram' || types.get(base) === 'summary' ? base : undefined;
  };
  const labelsOf = (fam: string) => {
    const l = new Set<string>();
    for (const s of samples) if (family(s.name) === fam) for (const k of Object.keys(s.labels)) if (k !== 'le' && k !== 'quantile') l.add(k);
    return l;
  };
  // Prometheus adds these when it scrapes (target labels): rules and dashboards may use them.
  const targetLabels = new Set(['namespace', 'pod', 'job', 'instance', 'service', 'container', 'endpoint']);

  const sources: [string, string][] = [];
  for (const f of webhookRuleFiles) {
    const doc = parse(readFileSync(join(alertsDir, f), 'utf8'));
    for (const g of doc.groups) for (const r of g.rules) sources.push([`${f} ${r.alert ?? r.record}`, `${r.expr}\n${Object.values(r.annotations ?? {}).join('\n')}`]);
  }
  const dashboard = JSON.parse(readFileSync(join(dashboardsDir, 'webhook.json'), 'utf8'));
  for (const p of dashboard.panels) for (const target of p.targets ?? []) sources.push([`webhook.json panel "${p.title}"`, target.expr]);
  for (const v of dashboard.templating.list) if (v.query?.query) sources.push([`webhook.json variable ${v.name}`, v.query.query]);
  sources.push(['docs/operations.md (metrics:webhook)', webhookSection('docs/operations.md')]);
  sources.push(['README.md (metrics:webhook)', webhookSection('README.md')]);

  const unknown: string[] = [];
  const badLabels: string[] = [];
  for (const [where, text] of sources)
    for (const [name, labelSets] of namesIn(text)) {
      const fam = family(name);
      if (!fam) {
        unknown.push(`${where}: ${name}`);
        continue;
      }
      const exported = labelsOf(fam);
      for (const set of labelSets) for (const l of set) if (!exported.has(l) && !targetLabels.has(l)) badLabels.push(`${where}: ${name} has no label "${l}" (exported: ${[...exported].join(', ') || 'none'})`);
    }
  t.same(unknown, [], 'every fleetgate series named is exported');
  t.same(badLabels, [], 'every label named is exported on that series');

  // And the other way round: every fleetgate family the webhook exports is documented, with its labels.
  const documented = namesIn(webhookSection('docs/operations.md'));
  const table = new Map(
    [...webhookSection('docs/operations.md').matchAll(/^\| `(fleetgate_[a-z0-9_]+)(?:\{([^}]*)\})?` \|/gm)].map((m) => [m[1], new Set(m[2] ? m[2].split(',') : [])]),
  );
  for (const [fam] of types) {
    if (!fam.startsWith('fleetgate_') || /^fleetgate_(process|nodejs)_/.test(fam)) continue;
    t.ok(documented.has(fam), `docs/operations.md documents ${fam}`);
    t.same([...(table.get(fam) ?? [])].sort(), [...labelsOf(fam)].sort(), `the docs table gives ${fam} its exported labels`);
  }
  t.equal(await serve.stop(), 0);
});
