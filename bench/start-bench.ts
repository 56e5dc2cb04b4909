import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machine, median, timeProcess } from './lib.js';

/**
 * Start time: `fleetgate lint` of one small file (one Pod, every built-in policy, JSON to stdout) and
 * `fleetgate --version` against `node -e 0`, whole processes run in turn, median of N runs each. What is left of
 * a small lint beyond node's own start is module loading. Target (issue #17): lint ≤ 2× `node -e 0`.
 * `--compare DIR` adds the same lint run by another built checkout (DIR/bin/fleetgate), e.g. the main branch.
 *   node dist/bench/start-bench.js [--runs 15] [--compare /path/to/other/checkout]
 */
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, compare: { type: 'string' } } });
const runs = Number(values.runs);
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = `${root}bench/out`;
await mkdir(dir, { recursive: true });
const file = `${dir}/start-pod.yaml`;
await writeFile(file, 'apiVersion: v1\nkind: Pod\nmetadata: {name: small, namespace: shop}\nspec:\n  containers:\n    - name: app\n      image: registry.example.com/app:1.0\n');

const commands: Record<string, string[]> = {
  'node -e 0': ['-e', '0'],
  'fleetgate --version': [`${root}bin/fleetgate`, '--version'],
  'fleetgate lint POD.yaml --format json': [`${root}bin/fleetgate`, 'lint', file, '--format', 'json'],
};
if (values.compare) commands[`${values.compare}: fleetgate lint POD.yaml --format json`] = [`${values.compare}/bin/fleetgate`, 'lint', file, '--format', 'json'];
const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
const load = [loadavg()[0]];
for (const args of Object.values(commands)) timeProcess(process.execPath, args); // warm the file cache
for (let i = 0; i < runs; i++)
  for (const [name, args] of Object.entries(commands)) {
    const r = timeProcess(process.execPath, args);
    if (r.code !== 0 && r.code !== 1) throw new Error(`${name} exited ${r.code}`);
    times[name].push(r.ms);
  }
load.push(loadavg()[0]);
const node = median(times['node -e 0']);
const rows = Object.entries(times).map(([name, ms]) => ({ command: name, medianMs: Math.round(median(ms)), ratio: +(median(ms) / node).toFixed(2) }));
console.log(JSON.stringify({ machine: machine(), runs, loadavg: load.map((x) => x.toFixed(1)).join(' → '), rows }, null, 2));
