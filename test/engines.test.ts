// `npm ci` on the oldest Node the README supports prints no EBADENGINE warning: every package in the lock file
// admits it (issue 16: cookie@2.0.2 via fastify's light-my-request wanted node >= 22), and `engines` says what the
// README says.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { ROOT } from './helpers/cli.js';

const semver = createRequire(import.meta.url)('semver') as { satisfies(v: string, range: string): boolean; minVersion(r: string): { version: string } };
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

t.test('engines is what the README promises', async (t) => {
  t.equal(pkg.engines.node, '^20.19.0 || >=22.12.0');
  t.match(readme, /Supported Node\.js versions: 20\.19\+ and 22\.12\+\./);
  for (const v of ['20.19.0', '20.20.2', '22.12.0', '24.0.0']) t.ok(semver.satisfies(v, pkg.engines.node), `${v} is supported`);
  t.notOk(semver.satisfies('22.11.0', pkg.engines.node), '22 before 22.12 is not (require(esm))');
});

t.test('every locked package admits the supported Node versions', async (t) => {
  const refuse: string[] = [];
  for (const v of ['20.19.0', '22.12.0'])
    for (const [path, p] of Object.entries(lock.packages as Record<string, { engines?: unknown }>)) {
      const node = p.engines && typeof p.engines === 'object' ? (p.engines as { node?: string }).node : undefined;
      if (path && node && !semver.satisfies(v, node)) refuse.push(`${path} (node ${node}) refuses ${v}`);
    }
  t.same(refuse, [], 'no EBADENGINE on npm ci');
  t.equal((lock.packages['node_modules/fastify/node_modules/light-my-request'] ?? lock.packages['node_modules/light-my-request'])?.version, '6.6.0', 'held by overrides');
});
