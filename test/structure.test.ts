import t from 'tap';
import { ROOT } from './helpers/cli.js';
import { listSources, longFunctions } from '../scripts/long-functions.mjs';

/**
 * The house rule of docs/architecture.md: a function longer than 60 lines says why, in a comment right above it that
 * starts with `Long:` (a data table, a protocol read top to bottom). Everything else is split into steps with names.
 */
const ROOTS = ['src', 'policies', 'webhook', 'scanner', 'watch', 'history', 'rollout', 'testkit', 'bench'];

t.test('no function over 60 lines without a reason', async (t) => {
  const files: string[] = listSources(ROOTS, ROOT);
  t.ok(files.length > 100, `the sources are found (${files.length} files)`);
  const long = files.flatMap((file) => longFunctions(file, 60) as { file: string; line: number; name: string; lines: number }[]);
  t.same(long.map((f) => `${f.file.slice(ROOT.length + 1)}:${f.line} ${f.name} (${f.lines} lines)`), []);
});

t.test('the check sees a long function and its reason', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'fleetgate-structure-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const body = Array.from({ length: 61 }, (_, i) => `  const v${i} = ${i};`).join('\n');
  await writeFile(join(dir, 'a.ts'), `export function tooLong() {\n${body}\n}\n// Long: a table read best whole.\nexport const explained = () => {\n${body}\n};\nexport function short() {\n  return 1;\n}\n`);
  const found = longFunctions(join(dir, 'a.ts'), 60) as { name: string; line: number }[];
  t.same(found.map((f) => [f.name, f.line]), [['tooLong', 1]], 'the unexplained one is listed, the explained and short ones are not');
});
