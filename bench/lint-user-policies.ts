// lint of one small file with 10 user policies: cold (empty bundle cache: esbuild compiles each file) and warm
// (cached bundles: no esbuild), against lint without user policies and `node -e 0`, in the same run.
// Not a test. Build first (npx tsc -p .), then: node dist/bench/lint-user-policies.js [--runs 5]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machine, median, timeProcess } from './lib.js';
import { writeUserPolicies } from './user-policies.js';

const { values } = parseArgs({ options: { runs: { type: 'string' } } });
const RUNS = Number(values.runs ?? 5);
const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin/fleetgate');
const dir = await mkdtemp(join(tmpdir(), 'fleetgate-lint-user-bench-'));
try {
  const policies = await writeUserPolicies(join(dir, 'policies'), 10);
  const manifest = join(dir, 'pod.yaml');
  await writeFile(manifest, 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop, labels: {app: p}}\nspec: {containers: [{name: a, image: "registry.example/a:1"}]}\n');
  const series: Record<string, number[]> = { 'node -e 0': [], 'lint, built-ins only': [], 'lint + 10 user policies, cold cache': [], 'lint + 10 user policies, warm cache': [] };
  for (let r = 0; r < RUNS; r++) {
    const cache = join(dir, `cache-${r}`);
    const env = { ...process.env, FLEETGATE_CACHE_DIR: cache };
    series['node -e 0'].push(timeProcess(process.execPath, ['-e', '0']).ms);
    series['lint, built-ins only'].push(timeProcess(bin, ['lint', manifest, '--format', 'json'], env).ms);
    series['lint + 10 user policies, cold cache'].push(timeProcess(bin, ['lint', manifest, '--format', 'json', '--policies', policies], env).ms);
    series['lint + 10 user policies, warm cache'].push(timeProcess(bin, ['lint', manifest, '--format', 'json', '--policies', policies], env).ms);
  }
  const node = median(series['node -e 0']);
  console.log(`machine: ${machine()} (shared with other engineers: compare within this run only); median of ${RUNS} runs`);
  for (const [name, xs] of Object.entries(series)) console.log(`${name}: ${median(xs).toFixed(0)} ms (${(median(xs) / node).toFixed(2)}× node -e 0)`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
