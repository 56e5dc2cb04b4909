// Compiled policy bundles are cached by content: a warm load compiles nothing, and any changed input recompiles.
import t from 'tap';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compilePolicyFile, cacheDir } from '../../src/engine/sandbox/compile.js';
import { runCli, tempDir } from '../helpers/cli.js';

const policy = (msg: string) => `import { definePolicy } from 'fleetgate';
import { note } from './helper.js';
export default definePolicy({
  id: 'cache.probe', title: 'probe', area: 'cache', severity: 'low', action: 'warn', match: { kinds: ['ConfigMap'] },
  validate({ report }) { report(note + ${JSON.stringify(msg)}); },
  examples: { pass: [{}], fail: [{}] },
});
`;

t.test('a warm compile is a cache hit; changing the file or a file it imports misses', async (t) => {
  const dir = await tempDir(t, 'fleetgate-cache-');
  const cache = join(dir, 'cache');
  const src = join(dir, 'src');
  await mkdir(src);
  await writeFile(join(src, 'probe.ts'), policy('one'));
  await writeFile(join(src, 'helper.ts'), "export const note = 'a:';\n");
  const first = await compilePolicyFile(join(src, 'probe.ts'), { cache });
  t.match(first, { cached: false });
  t.match(await compilePolicyFile(join(src, 'probe.ts'), { cache }), { cached: true, code: (first as { code: string }).code });
  await writeFile(join(src, 'helper.ts'), "export const note = 'b:';\n");
  const helperChanged = await compilePolicyFile(join(src, 'probe.ts'), { cache });
  t.match(helperChanged, { cached: false, code: /b:/ });
  await writeFile(join(src, 'probe.ts'), policy('two'));
  t.match(await compilePolicyFile(join(src, 'probe.ts'), { cache }), { cached: false, code: /two/ });
  t.equal((await readdir(join(cache, 'policies'))).length, 2, 'one entry per file content');

  // The CLI uses FLEETGATE_CACHE_DIR, and the cached bundle gives the same verdict.
  const env = { FLEETGATE_CACHE_DIR: join(dir, 'cli-cache') };
  const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x}\n';
  const runs = [];
  for (let i = 0; i < 2; i++) runs.push(await runCli(['lint', '-', '--format', 'json', '--no-builtins', '--policies', join(src, 'probe.ts')], { input: cm, env }));
  for (const r of runs) t.same(JSON.parse(r.stdout).findings.map((f: { message: string }) => f.message), ['b:two']);
  t.equal((await readdir(join(dir, 'cli-cache', 'policies'))).length, 1);
  t.equal(cacheDir({ XDG_CACHE_HOME: '/x' }), '/x/fleetgate');
});
