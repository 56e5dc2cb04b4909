import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ROOT } from '../helpers/cli.js';
import { startWatch, until, watchFixture } from './fixture.js';

const pod = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'tenant-00', labels },
  spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
});

async function sample(metrics: { registry: { metrics(): Promise<string> } }, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const text = await metrics.registry.metrics();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    const l = line.slice(name.length + 1, line.indexOf('}'));
    if (Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/**
 * Clusters that hang, drop their watch every few hundred ms, answer 410 to every resume, or send malformed events
 * do not delay a healthy one; each gets a reason (metric + report) and nothing else stops.
 */
t.test('misbehaving clusters do not delay the others', async (t) => {
  const fx = await watchFixture([{ name: 'healthy' }, { name: 'hangs', opts: { faults: { hang: true } } }, { name: 'flaps' }, { name: 'gone' }, { name: 'garbled' }], { timeoutSeconds: 60 });
  t.teardown(() => fx.close());
  fx.w.faults('flaps').dropAfterMs = 300;
  fx.w.faults('gone').goneOnResume = true;
  fx.w.faults('gone').dropAfterMs = 300;
  const { watch, metrics } = await startWatch(fx);
  t.teardown(() => watch.stop());
  const byName = (n: string) => watch.clusters.find((c) => c.name === n)!;
  t.ok(await until(() => ['healthy', 'flaps', 'gone', 'garbled'].every((n) => byName(n).health === 'ok')), 'the four that answer are synced');
  t.equal(byName('hangs').settled, false, 'while the hanging one is still within its 60 s budget');

  // changes on each (the flapping and 410 ones after several reconnects) are seen, while "hangs" still hangs
  await new Promise((r) => setTimeout(r, 1000));
  fx.w.faults('garbled').malformed = 1;
  fx.w.faults('garbled').objectless = 1;
  for (const n of ['healthy', 'flaps', 'gone', 'garbled']) fx.w.apply(n, 'ADDED', pod('intruder', { fragile: 'report' }));
  for (const n of ['healthy', 'flaps', 'gone', 'garbled']) {
    t.ok(await until(() => byName(n).report().findings.some((f) => f.resource.name === 'intruder')), `${n}: the new pod is judged`);
  }
  t.equal(byName('hangs').settled, false, 'all of that happened while "hangs" had not answered');
  t.ok((await sample(metrics, 'fleetgate_cluster_sync_errors_total', { cluster: 'flaps', reason: 'dropped' }))! >= 1, 'flaps: dropped streams counted');
  t.ok((await sample(metrics, 'fleetgate_cluster_sync_errors_total', { cluster: 'gone', reason: 'gone' }))! >= 1, 'gone: 410s counted');
  t.ok((await sample(metrics, 'fleetgate_cluster_sync_errors_total', { cluster: 'garbled', reason: 'malformed-event' }))! >= 1, 'garbled: malformed events counted');
  t.equal(await sample(metrics, 'fleetgate_cluster_up', { cluster: 'hangs' }), 0, 'hangs: up 0 (present, not missing)');
  t.equal(await sample(metrics, 'fleetgate_cluster_up', { cluster: 'healthy' }), 1, 'healthy: up 1');
  t.equal(byName('garbled').health, 'ok', 'a malformed event does not take the cluster down');
});

t.test('a cluster that hangs past its budget is unreachable with the reason', async (t) => {
  const fx = await watchFixture([{ name: 'healthy' }, { name: 'hangs', opts: { faults: { hang: true } } }], { timeoutSeconds: 1 });
  t.teardown(() => fx.close());
  const { watch, metrics } = await startWatch(fx);
  t.teardown(() => watch.stop());
  t.ok(await until(() => watch.ready()), 'ready: every cluster synced or failed with a reason');
  const r = watch.report().clusters.find((c) => c.name === 'hangs')!;
  t.match(r, { status: 'unreachable', score: null, error: /timed out after 1s/ });
  t.ok((await sample(metrics, 'fleetgate_cluster_sync_errors_total', { cluster: 'hangs', reason: 'timeout' }))! >= 1, 'timeout counted');
  t.equal(watch.report().clusters.find((c) => c.name === 'healthy')!.status, 'ok');
});

t.test('a cluster that loses its credentials is down with the reason, and comes back', async (t) => {
  const fx = await watchFixture([{ name: 'healthy' }, { name: 'rotated' }]);
  t.teardown(() => fx.close());
  const { watch, metrics } = await startWatch(fx);
  t.teardown(() => watch.stop());
  t.ok(await until(() => watch.ready()), 'every cluster synced');
  const rotated = watch.clusters.find((c) => c.name === 'rotated')!;
  fx.api.cluster('rotated').faults.unauthorized = true;
  fx.w.faults('rotated').dropAfterMs = 50; // the open streams end; reconnecting is refused
  fx.w.apply('rotated', 'ADDED', pod('x'));
  t.ok(await until(() => rotated.report().status === 'error'), 'down');
  t.match(rotated.report().error, /401/);
  t.notMatch(JSON.stringify(watch.report()), fx.api.cluster('rotated').token, 'the token is in no report');
  t.ok((await sample(metrics, 'fleetgate_cluster_sync_errors_total', { cluster: 'rotated', reason: 'unauthorized' }))! >= 1);
  t.equal(watch.report().clusters.find((c) => c.name === 'healthy')!.status, 'ok', 'the other cluster is unaffected');
  fx.api.cluster('rotated').faults.unauthorized = false;
  fx.w.faults('rotated').dropAfterMs = undefined;
  t.ok(await until(() => rotated.report().status === 'ok'), 'back once the credentials work again');
});

t.test('an object a policy cannot judge, and a desired state that does not render', async (t) => {
  const fx = await watchFixture([{ name: 'par01' }, { name: 'fra01', labels: { region: 'apac', type: 'edge', cohort: '1' } }]);
  t.teardown(() => fx.close());
  // an overlay only europe uses
  const fleetText = (await import('node:fs')).readFileSync(fx.fleetFile, 'utf8').replace('layers:\n  - path: base', 'layers:\n  - path: base\n  - path: eu\n    when: { region: europe }');
  writeFileSync(fx.fleetFile, fleetText);
  mkdirSync(join(fx.repo, 'eu'));
  writeFileSync(join(fx.repo, 'eu', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: eu, namespace: tenant-00}\ndata: {a: "1"}\n');
  const { watch, metrics } = await startWatch(fx, {}, [join(ROOT, 'test/fixtures/watch/fragile.ts')]);
  t.teardown(() => watch.stop());
  t.ok(await until(() => watch.ready()), 'every cluster synced');
  const par = () => watch.report().clusters.find((c) => c.name === 'par01')!;

  fx.w.apply('par01', 'ADDED', pod('odd', { fragile: 'throw' }));
  t.ok(await until(() => par().findings.some((f) => f.resource.name === 'odd' && f.error)), 'the policy error is a finding on the object');
  t.ok((await sample(metrics, 'fleetgate_cluster_sync_errors_total', { cluster: 'par01', reason: 'policy-error' }))! >= 1, 'and a reason on the cluster');
  t.equal(par().status, 'ok', 'the cluster goes on');

  // a broken document in the europe overlay: par01 says so, fra01 (apac) does not use it
  writeFileSync(join(fx.repo, 'eu', 'broken.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed\n');
  t.ok(await until(() => par().status === 'error'), 'par01: error');
  t.match(par().error, /desired state does not render/);
  t.equal(watch.report().clusters.find((c) => c.name === 'fra01')!.status, 'ok', 'fra01 is not concerned');
  t.ok((await sample(metrics, 'fleetgate_cluster_sync_errors_total', { cluster: 'par01', reason: 'desired-render' }))! >= 1);
  rmSync(join(fx.repo, 'eu', 'broken.yaml'));
  t.ok(await until(() => par().status === 'ok'), 'fixed in the repo: ok again');
  t.ok(par().drift.some((d) => d.resource.name === 'eu' && d.state === 'missing'), 'judged against the overlay');
});
