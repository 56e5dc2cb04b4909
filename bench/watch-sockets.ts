/**
 * What one watch stream costs the watch: N GET requests held open (as watch streams are) to a server in another
 * process, 20 per cluster with one TLS context per cluster (as watch/kube.ts makes them), RSS before and after GC.
 * HTTP/1.1: one keep-alive agent per cluster, a TLS socket per stream (the watch before watch/transport.ts, and its
 * fallback). HTTP/2: one session per cluster, a stream each (the watch now). Each mode is measured in a fresh child
 * process (freed memory is not given back to the OS, so one after the other in a process would hide the second).
 *
 *   node --expose-gc dist/bench/watch-sockets.js [--streams 2000] [--per 20] [--own-context]
 */
import { fork } from 'node:child_process';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';

const flag = (name: string) => process.argv.includes(`--${name}`);
const num = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = num('streams', 2000);
const PER = num('per', 20);

type Pems = { private: string; cert: string };

if (process.argv[2] === 'server') {
  const pems = JSON.parse(process.argv[3]) as Pems;
  const server = http2.createSecureServer({ key: pems.private, cert: pems.cert, allowHTTP1: true, settings: { maxConcurrentStreams: 1000 } }, (_req, res) => {
    res.writeHead(200);
    res.write('{}\n'); // then silent, as a watch between events
  });
  server.on('sessionError', () => {});
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as { port: number }).port));
} else if (process.argv[2] !== 'client') {
  // one fresh client per protocol, in turn
  const out = [];
  for (const p of ['http/1.1', 'h2']) {
    const c = fork(fileURLToPath(import.meta.url), ['client', p, ...process.argv.slice(2)], { execArgv: ['--expose-gc'] });
    out.push(await new Promise((r) => c.once('message', r)));
    await new Promise((r) => c.once('exit', r));
  }
  console.log(JSON.stringify({ context: flag('own-context') ? 'one per socket' : 'one per cluster', results: out }));
} else {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], { days: 1, keySize: 2048, extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }] } as never);
  const child = fork(fileURLToPath(import.meta.url), ['server', JSON.stringify(pems)]);
  const port = await new Promise<number>((r) => child.once('message', (m) => r(m as number)));
  const rss = () => process.memoryUsage().rss / 1048576;
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 100));
    }
    return rss();
  };
  const closers: (() => void)[] = [];

  const h1 = async () => {
    const open: Promise<unknown>[] = [];
    for (let c = 0; c < N / PER; c++) {
      const ctx = flag('own-context') ? { ca: pems.cert } : { secureContext: tls.createSecureContext({ ca: pems.cert }) };
      const agent = new https.Agent({ keepAlive: true, maxSockets: PER + 8, ...ctx });
      closers.push(() => agent.destroy());
      for (let s = 0; s < PER; s++) open.push(new Promise((r) => https.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => res.once('data', r)).on('error', r)));
    }
    await Promise.all(open);
  };
  const h2 = async () => {
    const open: Promise<unknown>[] = [];
    for (let c = 0; c < N / PER; c++) {
      const session = http2.connect(`https://127.0.0.1:${port}`, { secureContext: tls.createSecureContext({ ca: pems.cert }) });
      session.on('error', () => {});
      closers.push(() => session.destroy());
      for (let s = 0; s < PER; s++) {
        const st = session.request({ ':path': '/' });
        open.push(new Promise((r) => (st.once('data', r), st.once('error', r))));
      }
    }
    await Promise.all(open);
  };
  const name = process.argv[3];
  const base = await settle();
  await (name === 'h2' ? h2() : h1());
  const mib = (await settle()) - base;
  process.send!({ protocol: name, streams: N, connections: name === 'h2' ? N / PER : N, rssMib: Math.round(mib), kibPerStream: Math.round((mib * 1024) / N) });
  for (const c of closers) c();
  child.kill();
  process.exit(0);
}
