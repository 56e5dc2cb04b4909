import t from 'tap';
import type { KubeObject } from '../../src/index.js';
import { judged, scanNow, startWatch, until, watchFixture } from './fixture.js';

/**
 * The contract of the watch: after any series of changes, its findings, drift and score for a cluster are what
 * `fleetgate scan` reports for the same state. Each change kind takes a different path through the watch:
 * one object re-judged, the cluster-scope pass, a namespace relabel and a waiver (which re-read the cluster).
 */
t.test('after a series of changes the watch reports what scan reports', async (t) => {
  const fx = await watchFixture([{ name: 'par01' }, { name: 'fra01' }]);
  t.teardown(() => fx.close());
  const { watch } = await startWatch(fx);
  t.teardown(() => watch.stop());
  t.ok(await until(() => watch.ready()), 'every cluster synced');

  const same = async (what: string) => {
    const ok = await until(async () => {
      const scan = await scanNow(fx);
      const live = watch.report();
      return scan.clusters.every((c) => JSON.stringify(judged(c)) === JSON.stringify(judged(live.clusters.find((l) => l.name === c.name)!)));
    });
    const scan = await scanNow(fx);
    const live = watch.report();
    for (const c of scan.clusters) t.same(judged(live.clusters.find((l) => l.name === c.name)!), judged(c), `${what}: ${c.name} as scan reports it`);
    t.equal(live.score, scan.score, `${what}: fleet score`);
    return ok;
  };
  await same('initial sync');

  const obj = (kind: string, ns: string | undefined, name: string) =>
    structuredClone(fx.api.cluster('par01').objects.find((o) => o.kind === kind && o.metadata?.name === name && o.metadata?.namespace === ns)) as KubeObject;

  // one object: drift (image) and a policy finding (privileged container)
  const web = obj('Deployment', 'tenant-00', 'web');
  (web.spec as any).template.spec.containers[0].image = 'nginx:1.28';
  (web.spec as any).template.spec.containers[0].securityContext = { privileged: true };
  fx.w.apply('par01', 'MODIFIED', web);
  fx.w.apply('par01', 'ADDED', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'debug', namespace: 'tenant-01' },
    spec: { hostNetwork: true, containers: [{ name: 'sh', image: 'busybox' }] },
  });
  await same('a modified deployment and a new host-network pod');
  const par = watch.report().clusters.find((c) => c.name === 'par01')!;
  t.ok(par.drift.some((d) => d.state === 'modified' && d.resource.name === 'web'), 'the image change is drift');
  t.ok(par.findings.some((f) => f.resource.name === 'debug'), 'the new pod has findings');

  // cluster scope: a tenant loses its default-deny (missing drift + a namespace finding), an unmanaged policy appears
  fx.w.apply('par01', 'DELETED', obj('NetworkPolicy', 'tenant-02', 'default-deny'));
  fx.w.apply('par01', 'ADDED', { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-all', namespace: 'tenant-00' }, spec: { podSelector: {}, ingress: [{}] } });
  await same('a deleted default-deny and an unmanaged NetworkPolicy');
  const par2 = watch.report().clusters.find((c) => c.name === 'par01')!;
  t.ok(par2.findings.some((f) => f.policy === 'isolation.namespace-default-deny' && f.resource.name === 'tenant-02'), 'cluster-scope finding on the namespace');
  t.ok(par2.drift.some((d) => d.state === 'unmanaged' && d.resource.name === 'allow-all'), 'unmanaged object');

  // a namespace relabelled (changes how every object in it is judged) and a waiver
  const ns = obj('Namespace', undefined, 'tenant-01');
  ns.metadata!.labels = { ...ns.metadata!.labels, 'pod-security.kubernetes.io/enforce': 'restricted', 'fleetgate.io/data-classification': 'personal' };
  fx.w.apply('par01', 'MODIFIED', ns);
  fx.w.apply('par01', 'ADDED', {
    apiVersion: 'fleetgate.io/v1alpha1',
    kind: 'PolicyException',
    metadata: { name: 'debug-pod', namespace: 'tenant-01' },
    spec: { policies: ['pss.baseline.host-namespaces', 'isolation.no-host-namespaces'], resources: [{ kind: 'Pod', name: 'debug' }], reason: 'incident 42', expires: '2099-01-01' },
  });
  await same('a relabelled namespace and a PolicyException');
  // fra01 saw none of it
  t.same(judged(watch.report().clusters.find((c) => c.name === 'fra01')!), judged((await scanNow(fx)).clusters.find((c) => c.name === 'fra01')!), 'the other cluster is untouched');

  // a deletion brings the deployment back in sync... no: deleting it makes it missing
  fx.w.apply('par01', 'DELETED', web);
  await same('a deleted desired deployment');
  t.ok(watch.report().clusters.find((c) => c.name === 'par01')!.drift.some((d) => d.state === 'missing' && d.resource.name === 'web'), 'missing');
});
