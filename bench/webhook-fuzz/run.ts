// The long fuzz run: node dist/bench/webhook-fuzz/run.js [--inputs 100000] [--seed N] [--socket-every 50]
// Every input must get 200 (a verdict with the same uid), 400 or 413 — no 5xx, no crash, no hang — memory must stay
// flat, and no log line may hold a planted Secret value or bearer token. Exits 1 on any failure.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { generate } from 'selfsigned';
import { builtinPolicies } from '../../policies/index.js';
import { definePolicy } from '../../src/index.js';
import { mergeSettings } from '../../webhook/config.js';
import { createWebhookServer } from '../../webhook/server.js';
import { sendRaw } from './client.js';
import { PLANTED, fuzzInput, judge } from './mutate.js';

const { values } = parseArgs({ options: { inputs: { type: 'string' }, seed: { type: 'string' }, 'socket-every': { type: 'string' } } });
const INPUTS = Number(values.inputs ?? 100_000);
const SEED = Number(values.seed ?? 7);
const SOCKET_EVERY = Number(values['socket-every'] ?? 50);

const dir = await mkdtemp(join(tmpdir(), 'fleetgate-fuzz-'));
const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
  algorithm: 'sha256',
  keyType: 'ec',
  curve: 'P-256',
  extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
} as never);
await writeFile(join(dir, 'tls.crt'), pems.cert);
await writeFile(join(dir, 'tls.key'), pems.private);

const planted = [PLANTED.data, PLANTED.dataDecoded, PLANTED.stringData, PLANTED.bearer];
let logLines = 0;
let leaks = 0;
const sink = new Writable({
  write(chunk, _e, cb) {
    for (const line of String(chunk).split('\n')) {
      if (!line) continue;
      logLines++;
      if (planted.some((p) => line.includes(p))) leaks++;
    }
    cb();
  },
});
const fragile = definePolicy({
  id: 'fuzz.fragile',
  title: 'throws on odd input',
  area: 'fuzz',
  severity: 'low',
  action: 'deny',
  match: { kinds: ['Pod', 'Deployment', 'Secret'] },
  validate({ object }) {
    (object.metadata!.labels as Record<string, string>).app.toUpperCase();
  },
  examples: { pass: [{}], fail: [{}] },
});
const server = await createWebhookServer({
  settings: mergeSettings({ timeoutMs: 500 }, { labels: { region: 'europe' } }),
  policies: [...builtinPolicies, fragile],
  tls: { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') },
  logger: pino({ level: 'debug' }, sink),
});
const { port } = await server.listen(0, '127.0.0.1');
await server.ready;

const failures: string[] = [];
const statuses: Record<number, number> = {};
const heap: number[] = [];
const started = Date.now();
for (let i = 0; i < INPUTS; i++) {
  const overSocket = i % SOCKET_EVERY === 0;
  const input = fuzzInput(SEED, i, { transport: overSocket });
  let status: number;
  let text: string;
  if (overSocket) {
    try {
      ({ status, text } = await sendRaw(port, pems.cert, input, 5_000, { Authorization: `Bearer ${PLANTED.bearer}` }));
    } catch (err) {
      failures.push(`#${i} ${input.label}: ${(err as Error).message}`);
      continue;
    }
    if (status === 0 && input.transport === 'truncate-close') continue;
  } else {
    const res = await server.app.inject({
      method: 'POST',
      url: '/validate',
      payload: input.body,
      headers: { 'content-type': input.contentType ?? 'application/json', authorization: `Bearer ${PLANTED.bearer}` },
    });
    status = res.statusCode;
    text = res.body;
  }
  statuses[status] = (statuses[status] ?? 0) + 1;
  const problem = judge(input, status, text);
  if (problem) failures.push(`#${i} ${input.label}: ${problem}`);
  if (i % Math.max(1, Math.floor(INPUTS / 10)) === 0) {
    (globalThis as { gc?: () => void }).gc?.();
    heap.push(Math.round(process.memoryUsage().heapUsed / 2 ** 20));
  }
}
(globalThis as { gc?: () => void }).gc?.();
heap.push(Math.round(process.memoryUsage().heapUsed / 2 ** 20));
await server.close();
await rm(dir, { recursive: true, force: true });
const polluted = ({} as Record<string, unknown>).polluted !== undefined || (Object.prototype as Record<string, unknown>).allowed !== undefined;
console.log(`inputs ${INPUTS} (seed ${SEED}, every ${SOCKET_EVERY}th over a raw TLS socket) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`answers by status: ${JSON.stringify(statuses)}`);
console.log(`failures: ${failures.length}${failures.length ? `\n  ${failures.slice(0, 20).join('\n  ')}` : ''}`);
console.log(`log lines: ${logLines}, lines holding a planted secret: ${leaks}; prototype polluted: ${polluted}`);
console.log(`heap used (MiB, after GC when --expose-gc) at each tenth: ${heap.join(' ')}`);
process.exitCode = failures.length || leaks || polluted ? 1 : 0;
