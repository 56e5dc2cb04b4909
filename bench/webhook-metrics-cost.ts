// What per-policy metrics and tracing add to a review, measured in-process on the judging path alone (no sockets):
// CPU time per review of the AdmissionHandler for the bench's compliant Deployment with every built-in policy,
// (a) policies not instrumented, (b) as `serve` runs them (per-policy results and execution-time histogram; tracing
// off), (c) tracing on (spans queued for an OTLP receiver that discards them). Variants alternate, median of rounds.
// Not a test. Build first, then: node dist/bench/webhook-metrics-cost.js [--rounds 7] [--reviews 20000]
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { builtinPolicies } from '../policies/index.js';
import { inProcessEvaluator } from '../src/engine/index.js';
import { AdmissionHandler } from '../webhook/admission.js';
import { mergeSettings } from '../webhook/config.js';
import { WebhookMetrics } from '../webhook/metrics.js';
import { Tracer } from '../webhook/otlp.js';
import { webDeployment } from './fixtures.js';
import { machine, median } from './lib.js';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, reviews: { type: 'string' } } });
const ROUNDS = Number(values.rounds ?? 7);
const REVIEWS = Number(values.reviews ?? 20_000);

const body = {
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    namespace: 'shop',
    name: 'web',
    operation: 'CREATE',
    userInfo: { username: 'system:serviceaccount:argocd:argocd-application-controller' },
    object: webDeployment(),
    oldObject: null,
    dryRun: false,
  },
};

// A receiver that accepts and discards the spans (tracing on costs the export too, in this process).
const sink = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end('{}')));
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(sink.address() as { port: number }).port}/v1/traces`;

type Variant = 'bare' | 'metrics' | 'traced';
function handlerFor(variant: Variant) {
  const settings = mergeSettings({}, { labels: { region: 'europe' } });
  const metrics = new WebhookMetrics();
  const tracer = variant === 'traced' ? new Tracer({ url, serviceName: 'bench' }) : undefined;
  const policies = variant === 'bare' ? builtinPolicies : metrics.policies.instrument(builtinPolicies, settings.cluster, { trace: !!tracer });
  const handler = new AdmissionHandler({ evaluator: inProcessEvaluator(policies, settings.cluster), settings, metrics, logger: pino({ level: 'silent' }), tracer });
  return { handler, metrics, tracer };
}

const handlers = { bare: handlerFor('bare'), metrics: handlerFor('metrics'), traced: handlerFor('traced') };
const cpuUs: Record<Variant, number[]> = { bare: [], metrics: [], traced: [] };
async function round(variant: Variant): Promise<number> {
  const { handler, tracer } = handlers[variant];
  const before = process.cpuUsage();
  for (let i = 0; i < REVIEWS; i++) {
    let ok = false;
    // Built-in policies only: the evaluator is synchronous, so the answer arrives before review() returns.
    handler.review(body, Date.now() + 10_000, (outcome) => (ok = outcome.statusCode === 200 && !!(outcome.body as { response: { allowed: boolean } }).response.allowed));
    if (!ok) throw new Error('unexpected verdict');
    if (tracer && i % 512 === 511) await new Promise((r) => setImmediate(r)); // let the exporter send
  }
  await tracer?.flush();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / REVIEWS;
}

for (const v of ['bare', 'metrics', 'traced'] as const) await round(v); // warm up
for (let r = 0; r < ROUNDS; r++) for (const v of ['bare', 'metrics', 'traced'] as const) cpuUs[v].push(await round(v));
const m = { bare: median(cpuUs.bare), metrics: median(cpuUs.metrics), traced: median(cpuUs.traced) };
console.log(machine());
console.log(`${REVIEWS} reviews per round, ${ROUNDS} rounds, variants alternating; CPU µs per review (median):`);
console.log(`  policies not instrumented: ${m.bare.toFixed(2)} µs`);
console.log(`  per-policy metrics (as serve runs, tracing off): ${m.metrics.toFixed(2)} µs (+${(m.metrics - m.bare).toFixed(2)} µs)`);
console.log(`  tracing on (a span per review + one per policy, exported): ${m.traced.toFixed(2)} µs (+${(m.traced - m.bare).toFixed(2)} µs)`);
const scrape = await handlers.metrics.metrics.registry.metrics();
const count = /fleetgate_policy_execution_duration_seconds_count\{policy="quota.container-resources"\} (\d+)/.exec(scrape)?.[1];
console.log(`  check: quota.container-resources timed ${count} times in the metrics variant; spans exported ${handlers.traced.tracer!.exported}, dropped ${handlers.traced.tracer!.dropped}`);
sink.close();
