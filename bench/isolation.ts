// Isolation mechanisms for user policies, measured on equal terms: the same N policies (bench/isolation-policies.ts)
// on the same Deployment, N = 1 and 10, sequential reviews; plus fleetgate's own runtime (isolated-vm) with the same
// number of real user policy files, and the built-ins alone on the main thread as the reference.
// Not a test. Build first (npx tsc -p .), then: node dist/bench/isolation.js [--runs 3] [--reviews 20000] [--only-fleetgate]
import ivm from 'isolated-vm';
import { getQuickJS, shouldInterruptAfterDeadline } from 'quickjs-emscripten';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { builtinPolicies } from '../policies/index.js';
import { createEvaluator, inProcessEvaluator } from '../src/engine/index.js';
import { loadPolicySet } from '../src/loading/index.js';
import { policySource } from './isolation-policies.js';
import { webDeployment } from './fixtures.js';
import { machine, median } from './lib.js';
import { writeUserPolicies } from './user-policies.js';

const { values } = parseArgs({ options: { runs: { type: 'string' }, reviews: { type: 'string' }, 'only-fleetgate': { type: 'boolean' } } });
const RUNS = Number(values.runs ?? 3);
const REVIEWS = Number(values.reviews ?? 20_000);

const deployment = webDeployment();

interface Mechanism {
  name: string;
  /** Sets up N policies; returns a review function and a teardown, and what policy code can see. */
  setup(n: number): Promise<{ review: (json: string) => unknown; close(): void | Promise<void>; probes?: unknown }>;
}

const mechanisms: Mechanism[] = [
  {
    name: 'isolated-vm (sync call, main thread)',
    async setup(n) {
      const isolate = new ivm.Isolate({ memoryLimit: 64 });
      const ctx = isolate.createContextSync();
      const run = ctx.evalSync(policySource(n), { reference: true }) as ivm.Reference<(j: string) => string>;
      const probes = ctx.evalSync(`JSON.stringify({ process: typeof process, require: typeof require, fetch: typeof fetch })`);
      return { review: (json) => run.applySync(undefined, [json], { timeout: 1000 }), close: () => isolate.dispose(), probes };
    },
  },
  {
    name: 'isolated-vm (async call)',
    async setup(n) {
      const isolate = new ivm.Isolate({ memoryLimit: 64 });
      const ctx = isolate.createContextSync();
      const run = ctx.evalSync(policySource(n), { reference: true }) as ivm.Reference<(j: string) => string>;
      return { review: (json) => run.apply(undefined, [json], { timeout: 1000 }), close: () => isolate.dispose() };
    },
  },
  {
    name: 'SES lockdown + Compartment in a worker (one round trip per review)',
    async setup(n) {
      const worker = new Worker(new URL('./ses-worker.js', import.meta.url), { workerData: { source: policySource(n) } });
      const probes = await new Promise((resolve) => worker.once('message', (m) => resolve(m.probes)));
      let id = 0;
      const pending = new Map<number, (v: unknown) => void>();
      worker.on('message', (m: { id: number; out: string }) => {
        pending.get(m.id)?.(m.out);
        pending.delete(m.id);
      });
      return {
        review: (json) => new Promise((resolve) => (pending.set(++id, resolve), worker.postMessage({ id, json }))),
        close: () => worker.terminate().then(() => undefined),
        probes,
      };
    },
  },
  {
    name: 'quickjs-emscripten (Wasm interpreter, main thread)',
    async setup(n) {
      const QuickJS = await getQuickJS();
      const runtime = QuickJS.newRuntime();
      runtime.setMemoryLimit(64 * 1024 * 1024);
      const vm = runtime.newContext();
      const fn = vm.unwrapResult(vm.evalCode(policySource(n)));
      const probes = vm.dump(vm.unwrapResult(vm.evalCode(`JSON.stringify({ process: typeof process, require: typeof require, fetch: typeof fetch })`)));
      return {
        review: (json) => {
          runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + 1000));
          const arg = vm.newString(json);
          const out = vm.unwrapResult(vm.callFunction(fn, vm.undefined, arg));
          arg.dispose();
          const s = vm.getString(out);
          out.dispose();
          return s;
        },
        close: () => {
          fn.dispose();
          vm.dispose();
          runtime.dispose();
        },
        probes,
      };
    },
  },
];

/** CPU time of the process (all threads), in µs per review, of the last timeReviews call: far less load-sensitive than wall time on a shared machine. */
let lastCpu = 0;

async function timeReviews(review: (json: string) => unknown): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < REVIEWS; i++) {
    const r = review(JSON.stringify(deployment));
    if (r instanceof Promise) await r;
  }
  const c = process.cpuUsage(c0);
  lastCpu = (c.user + c.system) / REVIEWS;
  return ((performance.now() - t0) * 1000) / REVIEWS;
}

console.log(`machine: ${machine()} (shared with other engineers' builds and benches: compare within this run only)`);
console.log(`${REVIEWS} sequential reviews of one Deployment, median of ${RUNS} runs, µs per review\n`);

// Reference: the built-ins alone, on the main thread, as the webhook runs them.
const builtins = inProcessEvaluator(builtinPolicies, {});
const base: number[] = [];
const baseCpu: number[] = [];
for (let r = 0; r < RUNS; r++) {
  base.push(await timeReviews((json) => builtins.evaluateObject(JSON.parse(json))));
  baseCpu.push(lastCpu);
}
console.log(`built-ins only (main thread): ${median(base).toFixed(1)} µs (CPU ${median(baseCpu).toFixed(1)} µs)`);

for (const m of values['only-fleetgate'] ? [] : mechanisms) {
  for (const n of [1, 10]) {
    const load: number[] = [];
    const per: number[] = [];
    let probes: unknown;
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const s = await m.setup(n);
      load.push(performance.now() - t0);
      probes = s.probes ?? probes;
      per.push(await timeReviews(s.review));
      await s.close();
    }
    console.log(`${m.name}, ${n} policies: ${median(per).toFixed(1)} µs per review (policies only; + built-ins ${(median(per) + median(base)).toFixed(1)} µs), load ${median(load).toFixed(1)} ms${probes ? `, policy code sees ${typeof probes === 'string' ? probes : JSON.stringify(probes)}` : ''}`);
  }
}

// fleetgate's runtime: built-ins + N real user policy files (bundled, sandboxed, findings checked), per review.
const dir = await mkdtemp(join(tmpdir(), 'fleetgate-isolation-bench-'));
try {
  for (const n of [1, 10, 30]) {
    const load: number[] = [];
    const per: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const set = await loadPolicySet([await writeUserPolicies(join(dir, `u${n}`), n)], { builtins: builtinPolicies, cache: join(dir, 'cache') });
      if (set.errors.length) throw new Error(JSON.stringify(set.errors));
      const runtime = await createEvaluator(set.policies, {}, { sandbox: { timeoutMs: 1000 } });
      load.push(performance.now() - t0);
      per.push(await timeReviews((json) => runtime.evaluateObject(JSON.parse(json))));
      cpu.push(lastCpu);
      await runtime.close();
    }
    console.log(
      `fleetgate evaluator, built-ins + ${n} user policy files: ${median(per).toFixed(1)} µs per review (${(median(per) / median(base)).toFixed(2)}× built-ins alone), CPU ${median(cpu).toFixed(1)} µs (${(median(cpu) / median(baseCpu)).toFixed(2)}× built-ins alone), load ${median(load).toFixed(0)} ms (warm bundle cache)`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
