import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers/cli.js';

/**
 * Typed by kind, checked by the compiler: test/fixtures/authoring/typed-kinds/policies.ts type-checks against the
 * published types (dist/src/index.d.ts, what `import 'fleetgate'` gives a policy repository), and each of its
 * `@ts-expect-error` lines is a real error once the marker is removed (the types are not `any`).
 */

const FIXTURE = join(ROOT, 'test/fixtures/authoring/typed-kinds');
const BUILT = existsSync(join(ROOT, 'dist/src/index.d.ts'));
const tsc = (dir: string) => spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8', timeout: 110_000 });

t.test('the typed fixture compiles', { skip: BUILT ? false : 'dist/ is missing: run `npx tsc -p .` (npm test builds first)' }, async (t) => {
  const r = tsc(FIXTURE);
  t.equal(r.status, 0, r.stdout + r.stderr);

  const dir = await tempDir(t, 'fleetgate-typed-');
  await mkdir(dir, { recursive: true });
  const source = (await readFile(join(FIXTURE, 'policies.ts'), 'utf8')).replace(/^\s*\/\/ @ts-expect-error.*\n/gm, '');
  await writeFile(join(dir, 'policies.ts'), source);
  const config = JSON.parse(await readFile(join(FIXTURE, 'tsconfig.json'), 'utf8'));
  config.compilerOptions.paths = { fleetgate: [join(ROOT, 'dist/src/index.d.ts')] };
  config.compilerOptions.typeRoots = [];
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(config));
  const broken = tsc(dir);
  t.not(broken.status, 0);
  const errors = broken.stdout.split('\n').filter((l) => l.includes('error TS'));
  t.match(errors, [/Property 'replicas' does not exist/, /Type '"strict" \| "lenient"' is not assignable to type '"other"'/, /'c\.securityContext' is possibly 'undefined'/]);
  t.equal(errors.length, 3, broken.stdout);
});
