// CPU of one admission review on the judging path alone (no sockets), through the façade `fleetgate serve` builds
// (webhook/server.ts loadHandler: per-policy metrics instrumented, createEvaluator with perTurn, AdmissionHandler),
// for the webhook benches' review (benchReview(), bench/fixtures.ts) with the built-in policies. The body text is
// parsed per review, as the request path does. Optionally with the 10 bench user policy files (bench/user-policies.ts),
// answered at the turn's end as serve answers them. Not a test. Build first, then:
//   node dist/bench/admission-micro.js [--rounds 7] [--reviews 20000] [--user] [--per-policy]
// --per-policy prints each built-in policy's own CPU on the bench Deployment (each alone, in a loop), largest first.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { builtinPolicies } from '../policies/index.js';
import { createEvaluator, inProcessEvaluator } from '../src/engine/index.js';
import { loadPolicySet } from '../src/loading/index.js';
import type { Policy } from '../src/authoring/index.js';
import { AdmissionHandler, type ReviewOutcome } from '../webhook/admission.js';
import { mergeSettings } from '../webhook/config.js';
import { WebhookMetrics } from '../webhook/metrics.js';
import { benchReview } from './fixtures.js';
import { machine, median } from './lib.js';
import { writeUserPolicies } from './user-policies.js';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, reviews: { type: 'string' }, user: { type: 'boolean' }, 'per-policy': { type: 'boolean' } } });
const ROUNDS = Number(values.rounds ?? 7);
const REVIEWS = Number(values.reviews ?? 20_000);
const text = JSON.stringify(benchReview());

let dir: string | undefined;
let policies: readonly Policy[] = builtinPolicies;
if (values.user) {
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-admission-micro-'));
  const set = await loadPolicySet([await writeUserPolicies(join(dir, 'u'), 10)], { builtins: builtinPolicies, cache: join(dir, 'cache') });
  if (set.errors.length) throw new Error(set.errors.map((e) => e.message).join('; '));
  policies = set.policies;
}
const settings = mergeSettings({}, {});
const metrics = new WebhookMetrics();
const instrumented = metrics.policies.instrument(policies, settings.cluster, { trace: false });
const evaluator = await createEvaluator(instrumented, settings.cluster, { sandbox: { timeoutMs: settings.timeoutMs }, perTurn: true });
const handler = new AdmissionHandler({ evaluator, settings, metrics, logger: pino({ level: 'silent' }) });

const allowed = (o: ReviewOutcome) => o.statusCode === 200 && o.body.response.allowed === true && !o.body.response.warnings;

/** REVIEWS reviews, sequentially when synchronous, else 10 a turn (about what 10 connections give): CPU µs per review. */
async function round(): Promise<number> {
  const before = process.cpuUsage();
  let bad = 0;
  if (evaluator.sync) {
    for (let i = 0; i < REVIEWS; i++) handler.review(JSON.parse(text), Date.now() + 10_000, (o) => void (allowed(o) || bad++));
  } else {
    for (let i = 0; i < REVIEWS; i += 10) {
      await new Promise<void>((done) => {
        let left = 10;
        for (let j = 0; j < 10; j++) handler.review(JSON.parse(text), Date.now() + 10_000, (o) => void ((allowed(o) || bad++), --left || done()));
      });
    }
  }
  if (bad) throw new Error(`${bad} reviews were not plainly allowed`);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / REVIEWS;
}

/** Each built-in policy alone on the bench Deployment: CPU ns per evaluation, largest first. */
function perPolicy(): void {
  const object = benchReview().request.object;
  const rows: [string, number][] = [];
  for (const p of builtinPolicies) {
    if (p.scope === 'cluster' || p.scope === 'fleet') continue;
    const ev = inProcessEvaluator([p], settings.cluster);
    const n = 20_000;
    for (let i = 0; i < 2000; i++) ev.evaluateObject(object, { operation: 'CREATE' });
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) ev.evaluateObject(object, { operation: 'CREATE' });
    const u = process.cpuUsage(t0);
    rows.push([p.id, ((u.user + u.system) * 1000) / n]);
  }
  const empty = inProcessEvaluator([], settings.cluster);
  const t0 = process.cpuUsage();
  for (let i = 0; i < 20_000; i++) empty.evaluateObject(object, { operation: 'CREATE' });
  const u = process.cpuUsage(t0);
  console.log(`no policy at all: ${(((u.user + u.system) * 1000) / 20_000).toFixed(0)} ns per evaluation`);
  rows.sort((a, b) => b[1] - a[1]);
  for (const [id, ns] of rows) console.log(`  ${id.padEnd(48)} ${ns.toFixed(0)} ns`);
}

if (values['per-policy']) perPolicy();
else {
  await round(); // warm up
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await round());
  console.log(machine());
  console.log(`${policies.length} policies${values.user ? ' (10 user policy files)' : ''}, ${REVIEWS} reviews a round, ${ROUNDS} rounds: CPU µs per review, median ${median(rounds).toFixed(2)} (rounds ${rounds.map((r) => r.toFixed(2)).join(', ')})`);
}
await evaluator.close();
if (dir) await rm(dir, { recursive: true, force: true });
