// Certificate rotation without dropped connections, and the namespace cache fed by a list-watch.
import t from 'tap';
import { connect, type TLSSocket } from 'node:tls';
import { writeFile } from 'node:fs/promises';
import { pino } from 'pino';
import { NamespaceCache } from '../../webhook/namespace-cache.js';
import { NamespaceApi } from '../helpers/namespace-api.js';
import { compliantDeployment, makeCert, makeCerts, review, startServer, testPolicy } from '../helpers/webhook.js';

function peerCert(port: number, ca: string): Promise<{ fingerprint: string; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const s: TLSSocket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const out = { fingerprint: s.getPeerCertificate().fingerprint256, protocol: s.getProtocol() };
      s.end();
      resolve(out);
    });
    s.on('error', reject);
  });
}

t.test('TLS 1.2+ only; a rotated cert is served to new connections while open ones keep working', async (t) => {
  const certs = await makeCerts(t);
  const s = await startServer({ certs, reloadIntervalMs: 50 });
  t.teardown(() => s.close());
  const before = await peerCert(s.port, certs.cert);
  t.match(before.protocol, /^TLSv1\.[23]$/);
  const old = await new Promise<string>((resolve) => {
    const sock = connect({ host: '127.0.0.1', port: s.port, ca: certs.cert, servername: 'localhost', maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }, () => resolve('connected'));
    sock.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
  });
  t.match(old, /^error/, 'TLS 1.1 is refused');

  // An open keep-alive connection (the agent's) made before the rotation.
  t.equal((await s.post(review(compliantDeployment()))).status, 200);
  const next = await makeCert('fleetgate-rotated');
  await writeFile(certs.keyFile, next.key); // half-written pair first: must be ignored, not installed
  t.equal(s.server.reloadCertificate(), false, 'a mismatched cert/key pair is not installed');
  await writeFile(certs.certFile, next.cert);
  // The poller picks the pair up; wait for it (bounded), then check what new connections see.
  let after = before;
  for (let i = 0; i < 100 && after.fingerprint === before.fingerprint; i++) {
    await new Promise((r) => setTimeout(r, 50));
    after = await peerCert(s.port, next.cert).catch(() => before);
  }
  t.not(after.fingerprint, before.fingerprint, 'new connections get the new certificate');
  const r = await s.post(review(compliantDeployment()));
  t.equal(r.status, 200, 'the connection opened before the rotation still works');
  t.match((await s.get('/metrics')).text, /fleetgate_tls_reloads_total\{result="ok"\} 1/);
});

t.test('namespace-scope policies read labels from the namespace cache (list + watch)', async (t) => {
  const certs = await makeCerts(t);
  const api = new NamespaceApi({ cert: certs.cert, key: certs.key });
  api.put('shop', { 'fleetgate.io/data-classification': 'personal' });
  api.put('blog', {});
  await api.start();
  t.teardown(() => api.stop());
  const kc = NamespaceCache.kubeConfig(await api.writeKubeconfig(certs.dir))!;
  const cache = new NamespaceCache(kc, pino({ level: 'silent' }));
  t.teardown(() => cache.stop());
  await cache.start();
  t.ok(cache.synced, 'synced after the first list');
  t.same(cache.lookup('shop'), { 'fleetgate.io/data-classification': 'personal' });
  t.equal(cache.lookup('nowhere'), undefined);

  const residency = testPolicy(
    'test.personal-data-in-eu',
    'deny',
    ['Pod'],
    ({ namespace, cluster, report }) => {
      if (namespace.labels['fleetgate.io/data-classification'] === 'personal' && cluster.labels.region !== 'europe') report(`namespace ${namespace.name} holds personal data`);
    },
    { scope: 'namespace' },
  );
  const s = await startServer({ policies: [residency], labels: { region: 'us' }, namespaceLabels: cache.lookup, certs });
  t.teardown(() => s.close());
  const pod = (ns: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: ns }, spec: { containers: [{ name: 'a', image: 'a' }] } });
  t.equal((await s.post(review(pod('shop')))).json.response.allowed, false, 'labels from the list');
  t.equal((await s.post(review(pod('blog')))).json.response.allowed, true);

  // A watch event relabels blog; the cache follows (bounded wait for the event to arrive).
  for (let i = 0; i < 100 && api.watcherCount === 0; i++) await new Promise((r) => setTimeout(r, 20));
  api.put('blog', { 'fleetgate.io/data-classification': 'personal' });
  for (let i = 0; i < 100 && !cache.lookup('blog')?.['fleetgate.io/data-classification']; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal((await s.post(review(pod('blog')))).json.response.allowed, false, 'labels from a watch event');
  api.remove('shop');
  for (let i = 0; i < 100 && cache.lookup('shop'); i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(cache.lookup('shop'), undefined, 'deleted namespaces leave the cache');
  t.equal((await s.post(review(pod('shop')))).json.response.allowed, true, 'unknown namespace: labels unknown');
});

t.test('without cluster access, namespace labels are unknown (request.namespace only)', async (t) => {
  const saw: unknown[] = [];
  const probe = testPolicy('test.probe', 'audit', ['Pod'], ({ namespace }) => void saw.push({ ...namespace }), { scope: 'namespace' });
  const s = await startServer({ policies: [probe] });
  t.teardown(() => s.close());
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] } };
  await s.post(review(pod, { namespace: 'shop' }));
  t.same(saw, [{ name: 'shop', labels: {}, known: false }]);
});
