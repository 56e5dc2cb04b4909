/**
 * What one watch stream costs the watch: N HTTPS requests held open (as watch streams are) to a server in another
 * process, 20 per agent with one shared TLS context (as watch/kube.ts makes them), RSS before and after.
 *
 *   node --expose-gc dist/bench/watch-sockets.js [--streams 2000] [--own-context]
 */
import { fork } from 'node:child_process';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';

const flag = (name: string) => process.argv.includes(`--${name}`);
const i = process.argv.indexOf('--streams');
const N = i > 0 ? Number(process.argv[i + 1]) : 2000;

if (process.argv[2] === 'server') {
  const pems = JSON.parse(process.argv[3]) as { private: string; cert: string };
  const server = https.createServer({ key: pems.private, cert: pems.cert }, (_req, res) => {
    res.writeHead(200);
    res.write('{}\n'); // then silent, as a watch between events
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as { port: number }).port));
} else {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], { days: 1, keySize: 2048, extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }] } as never);
  const child = fork(fileURLToPath(import.meta.url), ['server', JSON.stringify(pems)]);
  const port = await new Promise<number>((r) => child.once('message', (m) => r(m as number)));
  const rss = () => process.memoryUsage().rss / 1048576;
  gc();
  const base = rss();
  const open: Promise<unknown>[] = [];
  for (let c = 0; c < N / 20; c++) {
    const ctx = flag('own-context') ? { ca: pems.cert } : { secureContext: tls.createSecureContext({ ca: pems.cert }) };
    const agent = new https.Agent({ keepAlive: true, maxSockets: 28, ...ctx });
    for (let s = 0; s < 20; s++)
      open.push(new Promise((r) => https.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => res.once('data', r)).on('error', r)));
  }
  await Promise.all(open);
  gc();
  const mib = rss() - base;
  console.log(JSON.stringify({ streams: N, context: flag('own-context') ? 'one per socket' : 'one per agent', rssMib: Math.round(mib), kibPerStream: Math.round((mib * 1024) / N) }));
  child.kill();
  process.exit(0);
}
