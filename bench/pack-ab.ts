// The Pod Security pack of two builds of fleetgate judging the same objects in one process, alternating, CPU µs per
// object (admission path, evaluateObject): the least load-sensitive before/after comparison on a shared machine.
// Not a test. Build both trees first, then: node dist/bench/pack-ab.js BEFORE_ROOT [AFTER_ROOT] [--rounds 9]
//   (e.g. `git archive main | tar -x -C /tmp/before`, link node_modules, `npx tsc -p .` there)
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './lib.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string' }, objects: { type: 'string' } } });
if (!positionals[0]) throw new Error('usage: node dist/bench/pack-ab.js BEFORE_ROOT [AFTER_ROOT] [--rounds 9] [--objects 20000]');
const ROUNDS = Number(values.rounds ?? 9);
const N = Number(values.objects ?? 20_000);
const roots = { before: resolve(positionals[0]), after: resolve(positionals[1] ?? fileURLToPath(new URL('../..', import.meta.url))) };

type Ev = { evaluateObject(o: unknown): { findings: unknown[] } };
async function evaluatorOf(root: string): Promise<Ev> {
  const pack = await import(pathToFileURL(`${root}/dist/policies/pod-security/index.js`).href);
  const engine = await import(pathToFileURL(`${root}/dist/src/engine/index.js`).href);
  return engine.inProcessEvaluator(pack.policies, {});
}
const evs = { before: await evaluatorOf(roots.before), after: await evaluatorOf(roots.after) };

const restricted = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
const objects = {
  compliant: {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { template: { spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'web', image: 'r/web:1', securityContext: restricted }, { name: 'side', image: 'r/side:1', securityContext: restricted }] } } },
  },
  violating: {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'shop' },
    spec: { hostNetwork: true, containers: [{ name: 'a', image: 'a', securityContext: { privileged: true, capabilities: { add: ['NET_ADMIN'] } }, ports: [{ hostPort: 80 }] }] },
  },
};
type Side = keyof typeof evs;
type Case = keyof typeof objects;
function round(side: Side, c: Case): { us: number; findings: number } {
  const ev = evs[side];
  const before = process.cpuUsage();
  let findings = 0;
  for (let i = 0; i < N; i++) findings += ev.evaluateObject(objects[c]).findings.length;
  const used = process.cpuUsage(before);
  return { us: (used.user + used.system) / N, findings: findings / N };
}
const us: Record<Side, Record<Case, number[]>> = { before: { compliant: [], violating: [] }, after: { compliant: [], violating: [] } };
const found: Record<Side, Record<Case, number>> = { before: { compliant: 0, violating: 0 }, after: { compliant: 0, violating: 0 } };
for (const s of ['before', 'after'] as const) for (const c of ['compliant', 'violating'] as const) round(s, c); // warm up
for (let r = 0; r < ROUNDS; r++)
  for (const s of r % 2 ? (['before', 'after'] as const) : (['after', 'before'] as const))
    for (const c of ['compliant', 'violating'] as const) {
      const x = round(s, c);
      us[s][c].push(x.us);
      found[s][c] = x.findings;
    }
console.log(`before ${roots.before}, after ${roots.after}; ${N} objects per round, ${ROUNDS} rounds alternating; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const c of ['compliant', 'violating'] as const) {
  const b = median(us.before[c]);
  const a = median(us.after[c]);
  console.log(`  ${c}: before ${b.toFixed(2)} µs, after ${a.toFixed(2)} µs, after/before ${(a / b).toFixed(3)} (findings per object ${found.before[c]} / ${found.after[c]})`);
}
