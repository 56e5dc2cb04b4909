import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import type { KubeObject } from '../../src/index.js';
import { sampleObjects } from '../../testkit/api-double.js';
import { startWatch, TENANTS, until, watchFixture } from './fixture.js';

/**
 * A PolicyException that expires while the watch runs: nothing in the cluster changes at that moment, so no event
 * comes; the findings it waived must come back anyway (a timer at the next expiry re-reads the cluster). The watch
 * runs on a clock shifted to a few seconds before the waiver's end, so the test waits seconds, not a day.
 */
// a host-network pod is found by both (one finding for the field, the other id in "also")
const POLICIES = ['pss.baseline.host-namespaces', 'isolation.no-host-namespaces'];
const hostPod = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'tenant-01' },
  spec: { hostNetwork: true, containers: [{ name: 'sh', image: 'busybox' }] },
});
const waiver = (name: string, expires: string, pod: string): KubeObject => ({
  apiVersion: 'fleetgate.io/v1alpha1',
  kind: 'PolicyException',
  metadata: { name, namespace: 'tenant-01' },
  spec: { policies: POLICIES, resources: [{ kind: 'Pod', name: pod }], reason: 'incident 42', expires },
});

async function findings(metrics: { registry: { metrics(): Promise<string> } }): Promise<number> {
  const text = await metrics.registry.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith('fleetgate_cluster_findings{') && l.includes('cluster="par01"') && POLICIES.some((p) => l.includes(`policy="${p}"`)))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

t.test('findings a waiver hid come back when it expires, without any event', async (t) => {
  // "expires: 2099-01-01" applies through that day: it ends at 2099-01-02T00:00Z
  const end = Date.parse('2099-01-02T00:00:00Z');
  const offset = end - 8_000 - Date.now();
  const clock = () => new Date(Date.now() + offset);
  const fx = await watchFixture([{ name: 'par01', opts: { objects: [...sampleObjects({ namespaces: TENANTS, podsPerNamespace: 1 }), hostPod('debug'), hostPod('debug2')] } }]);
  t.teardown(() => fx.close());
  // the waivers live in the config repo, as the fleet keeps them
  writeFileSync(join(fx.repo, 'base', 'waivers.yaml'), [waiver('short', '2099-01-01', 'debug'), waiver('long', '2099-06-30', 'debug2')].map((o) => stringify(o)).join('---\n'));
  // streams are not reconnected during the test: nothing but the expiry timer re-reads the cluster
  const { watch, metrics } = await startWatch(fx, { clock, idleMs: 120_000, watchTimeoutSeconds: 600 });
  t.teardown(() => watch.stop());
  t.ok(await until(() => watch.ready()), 'synced');
  const par = () => watch.report().clusters[0];
  const on = (pod: string) => par().findings.filter((f) => POLICIES.includes(f.policy) && f.resource.name === pod);
  const hidden = () => on('debug');

  t.ok(clock().getTime() < end, 'synced before the first waiver ends');
  t.equal(hidden().length, 0, 'the host-network pod is waived');
  t.equal(on('debug2').length, 0, 'and so is the other one');
  t.ok(par().waived >= 2, 'counted as waived');
  t.equal(await findings(metrics), 0, 'no finding series for it');

  // the waiver ends: no event, and yet the finding is back, in the report and in /metrics
  t.ok(await until(() => hidden().length >= 1, 30_000), 'the finding comes back once the waiver has ended');
  t.ok(clock().getTime() >= end, 'not before');
  t.ok(await until(async () => (await findings(metrics)) === hidden().length), 'and in /metrics');
  t.ok(par().findings.some((f) => f.policy === 'fleetgate.exception-expired' && f.resource.name === 'short'), 'the expired waiver is reported on itself');
  t.equal(on('debug2').length, 0, 'the waiver that runs until June still waives the other pod');
  t.same(fx.api.cluster('par01').requests.filter((r) => r.method !== 'GET').length, 0, 'nothing was written to the cluster, and the repo did not change');
});
