// Webhook throughput and latency against a bare fastify HTTPS baseline, measured alternately in the same run.
// Not a test. Build first (npx tsc -p .), then: node dist/bench/webhook.js [--rounds 3] [--duration 10] [--soak 100000]
// [--compare path/to/other/bin/fleetgate]: also serves built-ins + 10 user policies with another build (before/after
// a change, in the same run against the same baseline).
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generate } from 'selfsigned';
import { benchReview } from './fixtures.js';
import { steadyRate } from './steady-rate.js';
import { writeUserPolicies } from './user-policies.js';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, duration: { type: 'string' }, soak: { type: 'string' }, connections: { type: 'string' }, compare: { type: 'string' } } });
const ROUNDS = Number(values.rounds ?? 3);
const DURATION = Number(values.duration ?? 10);
const SOAK = Number(values.soak ?? 100_000);
const CONNECTIONS = Number(values.connections ?? 20);
const root = new URL('../..', import.meta.url).pathname;

const body = JSON.stringify(benchReview());

async function start(cmd: string[], port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, cmd, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      out += c;
      if (out.includes('listening')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  void port;
  return child;
}

async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 1/100 s). */
async function cpuOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * A load round against one server, with the server's CPU time per answered review: on a shared, oversubscribed
 * machine req/s swings with the neighbours' load, CPU per review much less (it is what a dedicated core would spend).
 */
async function measured(child: ChildProcess, port: number, opts: Partial<autocannon.Options>): Promise<autocannon.Result & { cpuUs: number }> {
  const before = await cpuOf(child.pid!);
  const r = await cannon(port, opts);
  const cpu = (await cpuOf(child.pid!)) - before;
  return Object.assign(r, { cpuUs: (cpu / Math.max(1, r.requests.total)) * 1e6 });
}

function cannon(port: number, opts: Partial<autocannon.Options>): Promise<autocannon.Result> {
  return autocannon({
    url: `https://127.0.0.1:${port}/validate`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    ...opts,
  } as autocannon.Options);
}

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // autocannon against our own self-signed loopback cert
const dir = await mkdtemp(join(tmpdir(), 'fleetgate-bench-'));
const pems = await generate([{ name: 'commonName', value: 'localhost' }], { algorithm: 'sha256', keyType: 'ec', curve: 'P-256' } as never);
await writeFile(join(dir, 'tls.crt'), pems.cert);
await writeFile(join(dir, 'tls.key'), pems.private);
const cert = join(dir, 'tls.crt');
const key = join(dir, 'tls.key');

// Random ports: other benches may run on this shared machine at the same time.
const portBase = 20_000 + Math.floor(Math.random() * 20_000);
const [fgPort, basePort, batchedPort, user1Port, user10Port, comparePort] = [0, 1, 2, 3, 4, 5].map((i) => portBase + i);
const serveWith = (bin: string, port: number, ...extra: string[]) =>
  start([bin, 'serve', '--port', String(port), '--host', '127.0.0.1', '--tls-cert', cert, '--tls-key', key, '--log-level', 'info', '--no-namespace-watch', ...extra], port);
const serve = (port: number, ...extra: string[]) => serveWith('bin/fleetgate', port, ...extra);
const fg = await serve(fgPort);
// Built-ins plus 1 and 10 user policies (sandboxed): the cost of the isolate per review.
const user1 = await serve(user1Port, '--policies', await writeUserPolicies(join(dir, 'user-1'), 1));
const user10 = await serve(user10Port, '--policies', await writeUserPolicies(join(dir, 'user-10'), 10));
const compared = values.compare ? await serveWith(values.compare, comparePort, '--policies', join(dir, 'user-10')) : undefined;
const base = await start(['dist/bench/webhook-baseline.js', String(basePort), cert, key], basePort);
const batched = await start(['dist/bench/webhook-baseline.js', String(batchedPort), cert, key, 'batched'], batchedPort);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const show = (r: autocannon.Result) =>
  `${r.requests.average.toFixed(0)} req/s (p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, errors ${r.errors}, non2xx ${r.non2xx})`;
try {
  // Warm every server up.
  for (const port of [fgPort, basePort, batchedPort, user1Port, user10Port, ...(compared ? [comparePort] : [])]) await cannon(port, { duration: 3 });
  const compareRatios: number[] = [];
  const ratios: number[] = [];
  const workRatios: number[] = [];
  const userRatios: [number[], number[]] = [[], []];
  const cpuRatios: number[] = [];
  const cpu = { base: [] as number[], fg: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    const b = await measured(base, basePort, { duration: DURATION });
    const bb = await measured(batched, batchedPort, { duration: DURATION });
    const f = await measured(fg, fgPort, { duration: DURATION });
    const u1 = await cannon(user1Port, { duration: DURATION });
    const u10 = await cannon(user10Port, { duration: DURATION });
    ratios.push(f.requests.average / b.requests.average);
    workRatios.push(f.requests.average / bb.requests.average);
    userRatios[0].push(u1.requests.average / b.requests.average);
    userRatios[1].push(u10.requests.average / b.requests.average);
    cpuRatios.push(b.cpuUs / f.cpuUs);
    cpu.base.push(b.cpuUs);
    cpu.fg.push(f.cpuUs);
    console.log(
      `round ${r + 1}: baseline ${show(b)}; batched baseline ${show(bb)}; fleetgate ${show(f)}; ratio ${ratios[r].toFixed(2)} (to the batched baseline ${workRatios[r].toFixed(2)}); CPU per review: baseline ${b.cpuUs.toFixed(1)} µs, batched ${bb.cpuUs.toFixed(1)} µs, fleetgate ${f.cpuUs.toFixed(1)} µs`,
    );
    console.log(`round ${r + 1}: +1 user policy ${show(u1)}, ratio ${userRatios[0][r].toFixed(2)}; +10 user policies ${show(u10)}, ratio ${userRatios[1][r].toFixed(2)}`);
    if (compared) {
      const c = await cannon(comparePort, { duration: DURATION });
      compareRatios.push(c.requests.average / b.requests.average);
      console.log(`round ${r + 1}: +10 user policies with ${values.compare} ${show(c)}, ratio ${compareRatios[r].toFixed(2)}`);
    }
  }
  if (compared) console.log(`median throughput ratio to the baseline, +10 user policies with ${values.compare}: ${median(compareRatios).toFixed(2)}`);
  console.log(`median throughput ratio fleetgate/baseline: ${median(ratios).toFixed(2)}; fleetgate/batched baseline: ${median(workRatios).toFixed(2)}`);
  console.log(`median throughput ratio to the baseline: +1 user policy ${median(userRatios[0]).toFixed(2)}, +10 user policies ${median(userRatios[1]).toFixed(2)}`);
  console.log(
    `median CPU per review: baseline ${median(cpu.base).toFixed(1)} µs, fleetgate ${median(cpu.fg).toFixed(1)} µs; CPU ratio baseline/fleetgate (throughput ratio on a dedicated core): ${median(cpuRatios).toFixed(2)}`,
  );

  // Latency at a steady rate, open loop (bench/steady-rate.ts), for fleetgate and, as the floor of this machine, the baseline.
  for (const [name, port] of [['baseline', basePort], ['fleetgate', fgPort], ['fleetgate +1 user policy', user1Port], ['fleetgate +10 user policies', user10Port], ...(compared ? [[`+10 user policies with ${values.compare}`, comparePort] as const] : [])] as const) {
    const s = await steadyRate({ port, path: '/validate', body, rate: 1000, durationS: DURATION, connections: 10 });
    console.log(
      `steady 1,000 reviews/s for ${DURATION}s, ${name}: p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, max ${s.max.toFixed(2)} ms, errors ${s.errors}, non2xx ${s.non2xx}, sent ${s.sent}`,
    );
  }

  const rss0 = await rssOf(fg.pid!);
  const half = await cannon(fgPort, { amount: Math.floor(SOAK / 2) });
  const rss1 = await rssOf(fg.pid!);
  const rest = await cannon(fgPort, { amount: SOAK - Math.floor(SOAK / 2) });
  const rss2 = await rssOf(fg.pid!);
  console.log(
    `soak ${SOAK} reviews: errors ${half.errors + rest.errors}, non2xx ${half.non2xx + rest.non2xx}; RSS ${rss0.toFixed(0)} MiB before, ${rss1.toFixed(0)} MiB halfway, ${rss2.toFixed(0)} MiB after`,
  );
} finally {
  for (const server of [fg, base, batched, user1, user10, compared]) server?.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
