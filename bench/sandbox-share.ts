// How much of a user-policy admission review's CPU is spent inside the policy isolate: the same façade as
// bench/admission-micro.ts --user (instrumented built-ins + the 10 bench user policy files, createEvaluator with
// perTurn, AdmissionHandler, the body parsed per review, --batch reviews a turn). Prints the process's CPU per
// review and the isolate's (isolated-vm's isolate.cpuTime). Not a test. Build first, then:
//   node dist/bench/sandbox-share.js [--reviews 20000] [--batch 10]
// For the host's side, run the same under `node --cpu-prof` (the isolate's time shows as runChunk's self time).
// isolated-vm's own isolate profiler (startCpuProfiler) is no help here: under it a review took ~24 ms and no sample
// was recorded. For where the time goes inside, run the dispatcher in plain Node under --frozen-intrinsics (close to
// the isolate's frozen realm) with --cpu-prof.
import type ivm from 'isolated-vm';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { builtinPolicies } from '../policies/index.js';
import { createEvaluator, sandboxOf } from '../src/engine/index.js';
import { loadPolicySet } from '../src/loading/index.js';
import { AdmissionHandler, type ReviewOutcome } from '../webhook/admission.js';
import { mergeSettings } from '../webhook/config.js';
import { WebhookMetrics } from '../webhook/metrics.js';
import { benchReview } from './fixtures.js';
import { machine } from './lib.js';
import { writeUserPolicies } from './user-policies.js';

const { values } = parseArgs({ options: { reviews: { type: 'string' }, batch: { type: 'string' } } });
const REVIEWS = Number(values.reviews ?? 20_000);
const BATCH = Number(values.batch ?? 10);
const text = JSON.stringify(benchReview());

const dir = await mkdtemp(join(tmpdir(), 'fleetgate-sandbox-profile-'));
const cache = join(dir, 'cache');
const set = await loadPolicySet([await writeUserPolicies(join(dir, 'u'), 10)], { builtins: builtinPolicies, cache });
if (set.errors.length) throw new Error(set.errors.map((e) => e.message).join('; '));
const settings = mergeSettings({}, {});
const metrics = new WebhookMetrics();
const instrumented = metrics.policies.instrument(set.policies, settings.cluster, { trace: false });
const evaluator = await createEvaluator(instrumented, settings.cluster, { sandbox: { timeoutMs: settings.timeoutMs }, perTurn: true });
const handler = new AdmissionHandler({ evaluator, settings, metrics, logger: pino({ level: 'silent' }) });
const host = sandboxOf(set.policies.find((p) => p.file)!) as unknown as { isolate: ivm.Isolate };

const allowed = (o: ReviewOutcome) => o.statusCode === 200 && o.body.response.allowed === true && !o.body.response.warnings;

async function reviews(n: number): Promise<void> {
  let bad = 0;
  for (let i = 0; i < n; i += BATCH) {
    await new Promise<void>((done) => {
      let left = BATCH;
      for (let j = 0; j < BATCH; j++) handler.review(JSON.parse(text), Date.now() + 10_000, (o) => void ((allowed(o) || bad++), --left || done()));
    });
  }
  if (bad) throw new Error(`${bad} reviews were not plainly allowed`);
}

await reviews(REVIEWS / 2); // warm up
const cpu0 = process.cpuUsage();
const iso0 = host.isolate.cpuTime;
await reviews(REVIEWS);
const cpu = process.cpuUsage(cpu0);
const iso = Number(host.isolate.cpuTime - iso0) / 1000;
console.log(machine());
console.log(
  `${REVIEWS} reviews, ${BATCH} a turn: CPU per review ${((cpu.user + cpu.system) / REVIEWS).toFixed(2)} µs, of which in the isolate ${(iso / REVIEWS).toFixed(2)} µs`,
);
await evaluator.close();
await rm(dir, { recursive: true, force: true });
