import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { watchTimeout } from '../../watch/stream.js';
import { startWatch, until, watchFixture } from './fixture.js';

/**
 * The watch's transport (watch/transport.ts): every request of a cluster over one HTTP/2 connection when the API
 * server negotiates h2 (the double does, as kube-apiserver), one socket per stream over HTTP/1.1 when it does not;
 * the same events either way. The kubeconfig goes through the scanner's reader, so its allowlist holds here too.
 */
const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'tenant-00' }, spec: { hostNetwork: true, containers: [{ name: 'c', image: 'x' }] } });

for (const http2 of [true, false]) {
  t.test(http2 ? 'HTTP/2: one connection per cluster carries all its watch streams' : 'HTTP/1.1 when the server does not offer h2: a socket per stream', async (t) => {
    const fx = await watchFixture([{ name: 'par01' }, { name: 'fra01' }], { http2 });
    t.teardown(() => fx.close());
    const { watch } = await startWatch(fx);
    t.teardown(() => watch.stop());
    t.ok(await until(() => watch.ready()), 'synced');
    t.ok(await until(() => fx.w.open('par01') > 5 && fx.w.open('fra01') > 5), 'every kind is watched on both clusters');
    const streams = fx.w.open();
    const byProtocol = fx.api.connectionsByProtocol();
    if (http2) t.same(byProtocol, { h2: 2 }, `${streams} streams over 2 HTTP/2 connections`);
    else {
      t.equal(byProtocol.h2, undefined, 'no HTTP/2');
      t.ok(byProtocol['http/1.1'] >= streams, `${streams} streams over ${byProtocol['http/1.1']} HTTP/1.1 sockets`);
    }
    for (const n of ['par01', 'fra01']) fx.w.apply(n, 'ADDED', pod('late'));
    for (const n of ['par01', 'fra01']) {
      const wc = watch.clusters.find((c) => c.name === n)!;
      t.ok(await until(() => wc.report().findings.some((f) => f.resource.name === 'late')), `${n}: an event is judged`);
    }
  });
}

t.test('HTTP/2: a dropped connection takes its streams down together; they resume on a new one', async (t) => {
  const fx = await watchFixture([{ name: 'par01' }]);
  t.teardown(() => fx.close());
  const { watch } = await startWatch(fx, { backoffMs: { base: 50, max: 200 } });
  t.teardown(() => watch.stop());
  t.ok(await until(() => watch.ready() && fx.w.open('par01') > 5), 'synced and watching');
  const before = fx.api.requests.filter((r) => r.query.watch === '1').length;
  fx.w.faults('par01').dropAfterMs = 1; // the next streams are cut at once: the connection under them
  fx.w.apply('par01', 'ADDED', pod('a'));
  t.ok(await until(() => fx.api.requests.filter((r) => r.query.watch === '1').length > before), 'streams reopened');
  fx.w.faults('par01').dropAfterMs = undefined;
  const wc = watch.clusters[0];
  t.ok(await until(() => wc.health === 'ok' && fx.w.open('par01') > 5), 'watching again');
  fx.w.apply('par01', 'ADDED', pod('b'));
  t.ok(await until(() => ['a', 'b'].every((n) => wc.report().findings.some((f) => f.resource.name === n))), 'the change made while cut and one after are both judged');
  t.same(fx.api.connectionsByProtocol(), { h2: 1 }, 'on one new connection');
});

t.test('an exec credential plugin not on the allowlist is not run by the watch', async (t) => {
  const fx = await watchFixture([{ name: 'par01' }, { name: 'plugin' }]);
  t.teardown(() => fx.close());
  const marker = join(fx.dir, 'plugin-ran');
  const kc = join(fx.dir, 'plugin.kubeconfig');
  const doc = parse(readFileSync(kc, 'utf8')) as { users: { user: Record<string, unknown> }[] };
  doc.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh', args: ['-c', `touch ${marker}; echo '{}'`] } };
  writeFileSync(kc, stringify(doc));
  const { watch } = await startWatch(fx);
  t.teardown(() => watch.stop());
  t.ok(await until(() => watch.ready()), 'every cluster synced or failed with a reason');
  const r = watch.clusters.find((c) => c.name === 'plugin')!.report();
  t.equal(r.status, 'error', 'the cluster is an error');
  t.match(r.error, /exec credential plugin .*not on the allowlist/, 'saying why');
  t.notOk(existsSync(marker), 'the plugin did not run');
  t.equal(watch.clusters.find((c) => c.name === 'par01')!.health, 'ok', 'the other cluster is watched');
});

t.test('each watch request asks for its own timeout, from --watch-timeout to twice it: streams opened together do not reopen together', async (t) => {
  t.equal(watchTimeout(300, () => 0), 300, 'at least the minimum');
  t.equal(watchTimeout(300, () => 0.999999), 600, 'at most twice it');
  const fx = await watchFixture([{ name: 'par01' }, { name: 'fra01' }]);
  t.teardown(() => fx.close());
  const { watch } = await startWatch(fx, { watchTimeoutSeconds: 300 });
  t.teardown(() => watch.stop());
  t.ok(await until(() => watch.ready() && fx.w.open() > 10), 'synced and watching');
  const asked = fx.api.requests.filter((r) => r.query.watch === '1').map((r) => Number(r.query.timeoutSeconds));
  t.ok(asked.length > 10 && asked.every((s) => s >= 300 && s <= 600), `${asked.length} watch requests, each asking 300-600 s`);
  t.ok(new Set(asked).size > asked.length / 2, `spread: ${new Set(asked).size} different timeouts`);
});
