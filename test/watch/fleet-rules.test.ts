import t from 'tap';
import type { KubeObject } from '../../src/index.js';
import { sampleObjects } from '../../testkit/api-double.js';
import { globalServiceEntry, service } from '../../policies/mesh/federation.js';
import { loadPolicySet } from '../../src/loading/index.js';
import { builtinPolicies } from '../../policies/index.js';
import { FleetWatch } from '../../watch/fleet-watch.js';
import { WatchMetrics } from '../../watch/metrics.js';
import { startServer } from '../../watch/server.js';
import { judged, scanNow, startWatch, TENANTS, until, watchFixture } from './fixture.js';

/**
 * Fleet-scope rules in the watch: a ServiceEntry on one cluster whose endpoint names another cluster is judged
 * against that other cluster's Services. A change on either side re-runs the rules (coalesced) and shows in
 * /metrics and /report.json; the report stays what scan reports; a cluster that cannot be read is unknown.
 */
const RULE = 'mesh.global-endpoints-exist';
const HOST = 'payment-service.tenant-00.svc.cluster.global';
const entry = (cluster: string) => globalServiceEntry('payment', 'tenant-00', HOST, [{ cluster, locality: `eu-central-1/${cluster}` }]);

async function findingsMetric(url: string, cluster: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('fleetgate_cluster_findings{') && l.includes(`cluster="${cluster}"`) && l.includes(`policy="${RULE}"`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

async function reportJson(url: string): Promise<any> {
  return (await fetch(`${url}/report.json`)).json();
}

const ruleFindings = (report: any, cluster: string) =>
  report.clusters.find((c: any) => c.name === cluster).findings.filter((f: any) => f.policy === RULE);

t.test('a changed ServiceEntry or Service is re-judged fleet-wide, in /metrics and /report.json', async (t) => {
  const fx = await watchFixture([
    { name: 'par01', opts: { objects: [...sampleObjects({ namespaces: TENANTS, podsPerNamespace: 1 }), entry('fra01')] } },
    { name: 'fra01' },
  ]);
  t.teardown(() => fx.close());
  const { watch, metrics } = await startWatch(fx);
  t.teardown(() => watch.stop());
  const server = await startServer(watch, metrics, '127.0.0.1', 0);
  t.teardown(() => server.close());
  t.ok(await until(() => watch.ready()), 'synced');

  // fra01 runs no payment-service: the endpoint is a finding on par01, where the ServiceEntry is
  t.ok(await until(async () => (await findingsMetric(server.url, 'par01')) === 1), 'the finding is in /metrics');
  let report = await reportJson(server.url);
  t.equal(ruleFindings(report, 'par01').length, 1, 'and in /report.json, on the cluster that holds the ServiceEntry');
  t.equal(ruleFindings(report, 'par01')[0].cluster, 'par01', 'naming the cluster');
  t.match(ruleFindings(report, 'par01')[0].message, /fra01.*runs no Service tenant-00\/payment-service/, 'saying what is missing');
  const scan = await scanNow(fx);
  for (const c of scan.clusters) t.same(judged(report.clusters.find((l: any) => l.name === c.name)), judged(c), `${c.name}: as scan reports it`);
  t.same(report.fleetRules, scan.fleetRules, 'the fleet section as scan reports it');

  // the other cluster gets the Service: the finding goes, though nothing changed on par01
  const svc = service('payment-service', 'tenant-00') as KubeObject;
  fx.w.apply('fra01', 'ADDED', svc);
  t.ok(await until(async () => (await findingsMetric(server.url, 'par01')) === 0), 'a Service on fra01 clears par01\'s finding in /metrics');
  report = await reportJson(server.url);
  t.equal(ruleFindings(report, 'par01').length, 0, 'and in /report.json');

  // the ServiceEntry changes to name a cluster outside the fleet: judged again
  const moved = entry('ams09');
  fx.w.apply('par01', 'MODIFIED', moved);
  t.ok(await until(async () => (await findingsMetric(server.url, 'par01')) === 1), 'the changed ServiceEntry is a finding again in /metrics');
  report = await reportJson(server.url);
  t.match(ruleFindings(report, 'par01')[0].message, /ams09.*not in the fleet/, 'and in /report.json, with the new reason');
  const again = await scanNow(fx);
  for (const c of again.clusters) t.same(judged(report.clusters.find((l: any) => l.name === c.name)), judged(c), `${c.name}: still as scan reports it`);

  // and deleted: nothing left to judge
  fx.w.apply('par01', 'DELETED', moved);
  t.ok(await until(async () => (await findingsMetric(server.url, 'par01')) === 0), 'a deleted ServiceEntry leaves no finding');
  t.ok(watch.fleetRules!.runs >= 3, 'the rules re-ran on the changes');
});

t.test('a fleet run that changes nothing on a cluster keeps its view (a scrape does not re-render the fleet)', async (t) => {
  const fx = await watchFixture([
    { name: 'par01', opts: { objects: [...sampleObjects({ namespaces: TENANTS, podsPerNamespace: 1 }), entry('fra01')] } },
    { name: 'fra01' },
    // its own finding, unchanged by par01's change: its fleet part is equal, not empty, after every run
    { name: 'ams01', opts: { objects: [...sampleObjects({ namespaces: TENANTS, podsPerNamespace: 1 }), entry('fra01')] } },
  ]);
  t.teardown(() => fx.close());
  const { watch, metrics } = await startWatch(fx);
  t.teardown(() => watch.stop());
  const server = await startServer(watch, metrics, '127.0.0.1', 0);
  t.teardown(() => server.close());
  t.ok(await until(async () => watch.ready() && (await findingsMetric(server.url, 'par01')) === 1 && (await findingsMetric(server.url, 'ams01')) === 1), 'synced, with the findings');
  const cluster = (name: string) => watch.clusters.find((c) => c.name === name)!;
  const [bystander, holder] = [cluster('ams01').view(), cluster('par01').view()];
  const runs = watch.fleetRules!.runs;

  fx.w.apply('par01', 'MODIFIED', entry('ams09'));
  t.ok(await until(async () => watch.fleetRules!.runs > runs && (await findingsMetric(server.url, 'par01')) === 1), 'the rules re-ran');
  t.match(ruleFindings(await reportJson(server.url), 'par01')[0].message, /ams09.*not in the fleet/, 'par01 has the new finding');
  t.not(cluster('par01').view(), holder, 'the cluster whose findings changed has a new view');
  t.equal(cluster('ams01').view(), bystander, 'a cluster the run left as it was keeps its view');
});

t.test('a cluster that cannot be read makes the fleet rules say unknown, never pass', async (t) => {
  const fx = await watchFixture(
    [
      { name: 'par01', opts: { objects: [...sampleObjects({ namespaces: TENANTS, podsPerNamespace: 1 }), entry('fra01')] } },
      { name: 'fra01', opts: { faults: { hang: true } } },
    ],
    { timeoutSeconds: 1 },
  );
  t.teardown(() => fx.close());
  const { watch, metrics } = await startWatch(fx);
  t.teardown(() => watch.stop());
  t.ok(await until(() => watch.ready()), 'settled: par01 synced, fra01 failed');
  const fra = watch.clusters.find((c) => c.name === 'fra01')!;
  t.equal(fra.health, 'down', 'fra01 is down');
  const rule = () => watch.report().fleetRules!.rules.find((r) => r.policy === RULE)!;
  t.ok(await until(() => rule().unknown.some((u) => u.cluster === 'fra01')), 'the rule lists fra01 as unknown');
  t.equal(rule().findings, 0, 'without a finding it cannot make');
  t.match(rule().unknown.find((u) => u.cluster === 'fra01')!.reason, /cannot tell whether fra01 runs Service/, 'saying what it could not tell');
  const text = await metrics.registry.metrics();
  t.notMatch(text, new RegExp(`fleetgate_cluster_findings\\{[^}]*policy="${RULE}"`), 'no finding series either');

  // the cluster comes back, without the Service: now it is a finding
  fx.api.cluster('fra01').faults.hang = false;
  t.ok(await until(() => rule().findings === 1, 20_000), 'once fra01 answers, the finding is made');
  t.same(rule().unknown, [], 'and nothing is unknown');
});

t.test('a single replica (--shard 0/1, as the chart runs it) judges the fleet rules; a real shard defers them', async (t) => {
  const fx = await watchFixture([{ name: 'par01', opts: { objects: [...sampleObjects({ namespaces: TENANTS, podsPerNamespace: 1 }), entry('fra01')] } }, { name: 'fra01' }]);
  t.teardown(() => fx.close());
  const { policies } = await loadPolicySet([], { builtins: builtinPolicies });
  for (const [shard, judges] of [[{ index: 0, count: 1 }, true], [{ index: 0, count: 2 }, false]] as const) {
    const metrics = new WatchMetrics({ defaultMetrics: false });
    const watch = await FleetWatch.start({ fleet: await fx.fleet(), policies, shard, hooks: metrics.hooks(), tuning: { idleMs: 5_000, debounceMs: 50 } });
    metrics.attach(watch);
    t.ok(await until(() => watch.ready()), `shard ${shard.index}/${shard.count}: synced`);
    const section = watch.report().fleetRules!;
    if (judges) {
      t.notOk(section.deferred, '0/1: the fleet rules are judged');
      t.ok(await until(() => ruleFindings(watch.report(), 'par01').length === 1), '0/1: with their finding');
    } else t.equal(section.deferred, true, '0/2: deferred (the shard sees part of the fleet)');
    await watch.stop();
  }
});
