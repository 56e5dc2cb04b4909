import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generateManifests } from './generate-manifests.js';
import { machine, median, timeProcess } from './lib.js';

/**
 * Lint speed: `fleetgate lint` over 10,000 generated objects in 100 multi-document files (whole process, JSON
 * output, every built-in policy) against plain `yaml` parsing of the same files (also a whole process), run
 * alternately so both see the same machine state. Target: lint ≤ 2× the parse.
 *   node dist/bench/lint-bench.js [runs]
 */
const runs = Number(process.argv[2] ?? 7);
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = `${root}bench/out/lint-manifests`;
await rm(dir, { recursive: true, force: true });
await generateManifests(dir, 100, 100);

const lintArgs = [`${root}bin/fleetgate`, 'lint', dir, '--format', 'json', '--output', `${root}bench/out/lint-report.json`];
const baseArgs = [`${root}dist/bench/yaml-parse-baseline.js`, dir];
timeProcess(process.execPath, baseArgs); // warm the file cache
const lint: number[] = [];
const base: number[] = [];
for (let i = 0; i < runs; i++) {
  base.push(timeProcess(process.execPath, baseArgs).ms);
  const r = timeProcess(process.execPath, lintArgs);
  if (r.code !== 0 && r.code !== 1) throw new Error(`lint exited ${r.code}`);
  lint.push(r.ms);
}
const report = JSON.parse(await (await import('node:fs/promises')).readFile(`${root}bench/out/lint-report.json`, 'utf8'));
const result = {
  machine: machine(),
  objects: report.summary.objects,
  findings: report.summary.findings,
  runs,
  lintMedianMs: Math.round(median(lint)),
  yamlParseMedianMs: Math.round(median(base)),
  ratio: +(median(lint) / median(base)).toFixed(2),
};
console.log(JSON.stringify(result, null, 2));
