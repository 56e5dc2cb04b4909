// A/B bench of `fleetgate serve`: this build against a "before" build (a checkout of another commit, built with
// npm run build), both against the bare fastify baseline (bench/webhook-baseline.ts), measured alternately in the
// same run on the same machine. Not a test. Build first (npm run build), then:
//   node dist/bench/serve-ab.js --before PATH [--rounds 5] [--reviews 10000] [--batch 10]
// PATH is the before checkout's root (it has bin/fleetgate and dist/). Each round sends --reviews reviews to every
// server, --batch of them in flight at once (that many connections), and reads the server's CPU time from /proc.
// Prints, per round and as medians of the rounds, for built-ins only and for built-ins + 10 user policies: the
// throughput ratio to the baseline (before and after) and the CPU per review (before, after, change).
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generate } from 'selfsigned';
import { benchReview } from './fixtures.js';
import { writeUserPolicies } from './user-policies.js';

const { values } = parseArgs({ options: { before: { type: 'string' }, rounds: { type: 'string' }, reviews: { type: 'string' }, batch: { type: 'string' } } });
if (!values.before) throw new Error('usage: node dist/bench/serve-ab.js --before PATH [--rounds 5] [--reviews 10000] [--batch 10]');
const BEFORE = resolve(values.before);
const ROUNDS = Number(values.rounds ?? 5);
const REVIEWS = Number(values.reviews ?? 10_000);
const BATCH = Number(values.batch ?? 10);
const root = new URL('../..', import.meta.url).pathname;

// The same review as bench/webhook.ts.
const body = JSON.stringify(benchReview());

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

function start(cwd: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((ok, fail) => {
    child.stdout!.on('data', (c) => {
      out += c;
      if (out.includes('listening')) ok(child);
    });
    child.on('exit', (code) => fail(new Error(`server exited ${code}: ${out}`)));
  });
}

/** CPU seconds (user + system) a process has used so far (clock ticks of 1/100 s). */
async function cpuOf(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Measure {
  rps: number;
  cpuUs: number;
  errors: number;
}

/** REVIEWS reviews, BATCH in flight: reviews per second of wall time, and the server's CPU per review. */
async function measure(server: Server, amount = REVIEWS): Promise<Measure> {
  const cpu0 = await cpuOf(server.child.pid!);
  const t0 = performance.now();
  const r = await autocannon({
    url: `https://127.0.0.1:${server.port}/validate`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: BATCH,
    amount,
  } as autocannon.Options);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (await cpuOf(server.child.pid!)) - cpu0;
  return { rps: r.requests.total / seconds, cpuUs: (cpu / Math.max(1, r.requests.total)) * 1e6, errors: r.errors + r.non2xx };
}

interface Server {
  name: string;
  child: ChildProcess;
  port: number;
}

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // autocannon against our own self-signed loopback cert
const dir = await mkdtemp(join(tmpdir(), 'fleetgate-serve-ab-'));
const pems = await generate([{ name: 'commonName', value: 'localhost' }], { algorithm: 'sha256', keyType: 'ec', curve: 'P-256' } as never);
const cert = join(dir, 'tls.crt');
const key = join(dir, 'tls.key');
await writeFile(cert, pems.cert);
await writeFile(key, pems.private);
const user10 = await writeUserPolicies(join(dir, 'user-10'), 10);

const portBase = 20_000 + Math.floor(Math.random() * 20_000); // other benches may run on this machine at the same time
let nextPort = portBase;
const serve = async (name: string, checkout: string, ...extra: string[]): Promise<Server> => {
  const port = nextPort++;
  const args = ['bin/fleetgate', 'serve', '--port', String(port), '--host', '127.0.0.1', '--tls-cert', cert, '--tls-key', key, '--log-level', 'info', '--no-namespace-watch', ...extra];
  return { name, child: await start(checkout, args), port };
};
const servers: Server[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const basePort = nextPort++;
  servers.push({ name: 'baseline', child: await start(root, ['dist/bench/webhook-baseline.js', String(basePort), cert, key]), port: basePort });
  servers.push(await serve('before built-ins', BEFORE), await serve('after built-ins', root));
  servers.push(await serve('before +10 user', BEFORE, '--policies', user10), await serve('after +10 user', root, '--policies', user10));
  console.log(`before: ${BEFORE}; after: ${root}; ${ROUNDS} rounds of ${REVIEWS} reviews, ${BATCH} in flight; load ${load()}`);
  for (const s of servers) await measure(s, Math.min(REVIEWS, 3000)); // warm-up
  const got = new Map<string, Measure[]>(servers.map((s) => [s.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which build goes first, so drifting neighbours' load favours neither.
    const [baseline, bb, ab, bu, au] = servers;
    const order = round % 2 ? [baseline, ab, bb, au, bu] : [baseline, bb, ab, bu, au];
    const line: string[] = [];
    for (const s of order) {
      const m = await measure(s);
      got.get(s.name)!.push(m);
      line.push(`${s.name} ${m.rps.toFixed(0)}/s ${m.cpuUs.toFixed(0)} µs${m.errors ? ` (${m.errors} errors)` : ''}`);
    }
    console.log(`round ${round + 1}: ${line.join('; ')}; load ${load()}`);
  }
  // Ratios per round (each to the baseline of its own round), then medians.
  const base = got.get('baseline')!;
  const ratio = (name: string) => median(got.get(name)!.map((m, i) => m.rps / base[i].rps));
  const cpu = (name: string) => median(got.get(name)!.map((m) => m.cpuUs));
  for (const what of ['built-ins', '+10 user']) {
    const before = `before ${what}`;
    const after = `after ${what}`;
    const change = (cpu(after) / cpu(before) - 1) * 100;
    console.log(
      `${what}: throughput ratio to the baseline ${ratio(before).toFixed(2)} -> ${ratio(after).toFixed(2)}; CPU per review ${cpu(before).toFixed(0)} µs -> ${cpu(after).toFixed(0)} µs (${change >= 0 ? '+' : ''}${change.toFixed(0)}%) (medians of ${ROUNDS} rounds)`,
    );
  }
  console.log(`baseline: median ${median(base.map((m) => m.rps)).toFixed(0)} reviews/s, ${cpu('baseline').toFixed(0)} µs CPU per review; load ${load()}`);
} finally {
  for (const s of servers) s.child.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
