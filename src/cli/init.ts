import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXIT_OK, UsageError, type Command } from './command.js';
import { version } from './version.js';

const usage = `Usage: fleetgate init DIR [--fleetgate SPEC]

Writes a policy project into DIR (created if needed; refused if it holds files): package.json depending on
fleetgate, tsconfig.json (editors show the DSL's types), policies/require-team-label.ts (an example policy with
pass/fail examples), tests/require-team-label.yaml (a PolicyTest), .github/workflows/policies.yml (CI) and a
README. Then:

  cd DIR && npm install && npx fleetgate test --no-builtins --policies policies tests

Options:
  --fleetgate SPEC    the package.json dependency on fleetgate (default: "file:" this installation, as fleetgate
                      is not on a registry yet; e.g. --fleetgate ^${version()} once it is)
`;

/** Where this fleetgate is installed (the folder holding its package.json). */
const INSTALL_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

const POLICY = `import { definePolicy } from 'fleetgate';

// An example policy: every Deployment names the team that owns it. Hover over definePolicy, pod, report or
// object in your editor for the DSL's types; \`npx fleetgate test\` runs the examples below and tests/*.yaml.
export default definePolicy({
  id: 'acme.require-team-label',
  title: 'Deployments carry a team label',
  area: 'acme',
  severity: 'medium',
  action: 'warn',
  match: { kinds: ['Deployment'] },
  validate({ object, report }) {
    const team = object.metadata?.labels?.['team'];
    if (!team) report('the Deployment has no "team" label: who gets paged when it breaks?', '$.metadata.labels');
  },
  examples: {
    pass: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { team: 'shop' } }, spec: {} }],
    fail: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: {} }],
  },
});
`;

const TEST = `# A PolicyTest: objects and the verdict expected of one policy. \`npx fleetgate test tests\` runs every file here.
apiVersion: fleetgate.io/v1alpha1
kind: PolicyTest
metadata:
  name: require-team-label
spec:
  policy: acme.require-team-label
  cases:
    - name: a labelled deployment passes
      expect: pass
      objects:
        - apiVersion: apps/v1
          kind: Deployment
          metadata: { name: api, labels: { team: payments } }
          spec: {}
    - name: an empty label value is no team
      expect: fail
      objects:
        - apiVersion: apps/v1
          kind: Deployment
          metadata: { name: api, labels: { team: "" } }
          spec: {}
`;

const CI = `# Runs the policies' examples and tests on every push, then lints the manifests with them.
name: policies
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with: { node-version: 22 }
      - run: npm ci
      - run: npx tsc --noEmit          # the policies type-check against the DSL
      - run: npm test                  # fleetgate test: every example and tests/*.yaml
      # - run: npx fleetgate lint --policies policies path/to/manifests
`;

function files(name: string, spec: string): Record<string, string> {
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    description: 'Policies for fleetgate',
    scripts: {
      test: 'fleetgate test --no-builtins --policies policies tests',
      lint: 'fleetgate lint --policies policies',
      typecheck: 'tsc --noEmit',
    },
    dependencies: { fleetgate: spec },
    devDependencies: { typescript: '^6.0.3' },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    },
    include: ['policies/**/*.ts'],
  };
  return {
    'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(tsconfig, null, 2)}\n`,
    'policies/require-team-label.ts': POLICY,
    'tests/require-team-label.yaml': TEST,
    '.github/workflows/policies.yml': CI,
    '.gitignore': 'node_modules/\n',
    'README.md': `# ${name}\n\nfleetgate policies. \`npm install\`, then:\n\n\`\`\`sh\nnpm test            # every policy's examples and tests/*.yaml\nnpx fleetgate lint --policies policies MANIFESTS...\nnpx fleetgate policies --no-builtins --policies policies\n\`\`\`\n\nAdd a policy: a file in policies/ exporting \`definePolicy({...})\` with pass and fail examples, and a PolicyTest in tests/.\n`,
  };
}

export const command: Command = {
  summary: 'write a policy project: types, an example policy, its test, CI',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { fleetgate: { type: 'string' } } });
    if (positionals.length !== 1) throw new UsageError('give one folder: fleetgate init DIR');
    const dir = resolve(positionals[0]);
    if (existsSync(dir) && readdirSync(dir).length) throw new UsageError(`${positionals[0]} is not empty: init writes only into a new or empty folder`);
    const spec = values.fleetgate ?? `file:${INSTALL_ROOT}`;
    const name = basename(dir).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'policies';
    for (const [file, text] of Object.entries(files(name, spec))) {
      await mkdir(join(dir, file, '..'), { recursive: true });
      await writeFile(join(dir, file), text, { flag: 'wx' });
    }
    process.stdout.write(
      `Wrote a policy project to ${positionals[0]} (fleetgate ${spec}).\n\n  cd ${positionals[0]}\n  npm install\n  npm test\n`,
    );
    return EXIT_OK;
  },
};
