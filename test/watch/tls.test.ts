import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { startWatch, until, watchFixture } from './fixture.js';

/**
 * The watch's TLS: one context per cluster shared by all its sockets (kube.ts). A cluster that authenticates by
 * client certificate syncs and is watched; one whose server is not trusted, or whose certificate data is not
 * usable, is down with a reason and delays nobody.
 */
t.test('client certificates, an untrusted server and broken certificate data', async (t) => {
  const fx = await watchFixture([{ name: 'certed', opts: { auth: 'client-cert' } }, { name: 'untrusted' }, { name: 'broken', opts: { auth: 'client-cert' } }]);
  t.teardown(() => fx.close());
  fx.api.writeKubeconfig(join(fx.dir, 'certed.kubeconfig'), ['certed'], { clientCert: true });
  fx.api.writeKubeconfig(join(fx.dir, 'untrusted.kubeconfig'), ['untrusted'], { omitCa: true });
  const brokenFile = join(fx.dir, 'broken.kubeconfig');
  fx.api.writeKubeconfig(brokenFile, ['broken'], { clientCert: true });
  // a client key that is not a key (base64 of text)
  writeFileSync(brokenFile, readFileSync(brokenFile, 'utf8').replace(/client-key-data: .*/, `client-key-data: ${Buffer.from('not a key').toString('base64')}`));
  const { watch } = await startWatch(fx);
  t.teardown(() => watch.stop());
  const byName = (n: string) => watch.clusters.find((c) => c.name === n)!;
  t.ok(await until(() => watch.ready()), 'every cluster synced or failed with a reason');
  t.equal(byName('certed').health, 'ok', 'the client-certificate cluster is synced');
  const untrusted = byName('untrusted').report();
  t.equal(untrusted.status, 'unreachable', 'an untrusted server is not read');
  t.match(untrusted.error, /certificate|self.signed|CERT/i, 'saying why');
  const broken = byName('broken').report();
  t.equal(broken.status, 'error', 'unusable certificate data is an error of that cluster');
  t.match(broken.error, /certificate data is not usable|credentials/, 'saying why');
  t.notMatch(broken.error, /not a key|bm90IGEga2V5/, 'without the key material');
  fx.w.apply('certed', 'ADDED', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'late', namespace: 'tenant-00' }, spec: { hostNetwork: true, containers: [{ name: 'c', image: 'x' }] } });
  t.ok(await until(() => byName('certed').report().findings.some((f) => f.resource.name === 'late')), 'events on the client-certificate cluster are judged');
  t.ok(await until(() => fx.w.open('certed') > 1), 'several watch streams open over its one TLS context');
});
