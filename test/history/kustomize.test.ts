import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findKubectl } from '../../scanner/desired.js';
import { kustomizeRoots } from '../../history/kustomize.js';
import { runCli, tempDir } from '../helpers/cli.js';

/**
 * `history convergence` on a fleet whose edge overlay is a kustomization: the objects a commit changed are those
 * whose rendering changed (namePrefix applied, a resource pulled from a folder outside the layer), not the raw
 * objects of the files it touched.
 */

function write(root: string, files: Record<string, string>) {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
}

function git(dir: string, ...args: string[]) {
  execFileSync('git', ['-C', dir, '-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { stdio: 'pipe' });
}

const cm = (name: string, a: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: shop}\ndata: {a: "${a}"}\n`;
const limits = (name: string, cpu: string) =>
  `apiVersion: v1\nkind: LimitRange\nmetadata: {name: ${name}, namespace: shop}\nspec:\n  limits:\n  - type: Container\n    max: {cpu: "${cpu}"}\n`;
const ns = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n';

t.test('kustomization roots: the first folder with a kustomization on the way down, per layer', async (t) => {
  const layer = (path: string) => ({ layer: { path, dir: `/r/${path}` }, rel: path });
  const roots = kustomizeRoots(
    ['base/ns.yaml', 'overlays/edge/kustomization.yaml', 'overlays/edge/sub/kustomization.yaml', 'components/limits/kustomization.yaml', 'overlays/eu/gdpr/kustomization.yaml'],
    [layer('base'), layer('overlays/edge'), layer('overlays/eu'), layer('overlays/eu/gdpr')],
  );
  t.same([...roots.entries()].map(([r, l]) => [r, l.path]).sort(), [['overlays/edge', 'overlays/edge'], ['overlays/eu/gdpr', 'overlays/eu/gdpr']], 'nested and out-of-layer kustomizations are not roots');
});

t.test('convergence of a commit to a kustomize overlay', async (t) => {
  if (!(await findKubectl())) {
    t.skip('kubectl is not on PATH: kustomize layers cannot be rendered');
    return;
  }
  const dir = await tempDir(t, 'fleetgate-history-kustomize-');
  const f = join(dir, 'fleet');
  write(f, {
    'fleet.yaml': [
      'repo: ./repo',
      'layers:',
      '- {path: base}',
      '- {path: overlays/edge, when: {type: edge}}',
      'clusters:',
      '- {name: e1, labels: {type: edge}, source: {snapshot: clusters/e1}}',
      '- {name: e2, labels: {type: edge}, source: {snapshot: clusters/e2}}',
      '- {name: t1, labels: {type: transit}, source: {snapshot: clusters/t1}}',
      '',
    ].join('\n'),
    'repo/base/ns.yaml': ns,
    'repo/overlays/edge/kustomization.yaml': 'resources: [cm.yaml, ../../components/limits]\nnamePrefix: edge-\n',
    'repo/overlays/edge/cm.yaml': cm('cfg', '1'),
    'repo/components/limits/kustomization.yaml': 'resources: [limits.yaml]\n',
    'repo/components/limits/limits.yaml': limits('limits', '1'),
    'clusters/e1/all.yaml': [ns, cm('edge-cfg', '1'), limits('edge-limits', '1')].join('---\n'),
    'clusters/e2/all.yaml': [ns, cm('edge-cfg', '1'), limits('edge-limits', '1')].join('---\n'),
    'clusters/t1/all.yaml': ns,
  });
  git(f, 'init', '-q');
  git(f, 'add', '-A');
  git(f, 'commit', '-qm', 'initial fleet');
  const store = join(dir, 'history.db');
  const fleetFile = join(f, 'fleet.yaml');
  const scan = () => runCli(['scan', '--fleet', fleetFile, '--history', store, '--format', 'json']);
  const s1 = await scan();
  t.equal(s1.code, 0, s1.stderr);
  t.same(
    JSON.parse(s1.stdout).clusters.map((c: { name: string; drift: unknown[] }) => [c.name, c.drift.length]),
    [['e1', 0], ['e2', 0], ['t1', 0]],
    'the rendered overlay is what the clusters run',
  );

  // One commit changes the overlay's ConfigMap and the component it pulls in from outside the layer; e1 applies it, e2 not yet.
  write(f, { 'repo/overlays/edge/cm.yaml': cm('cfg', '2'), 'repo/components/limits/limits.yaml': limits('limits', '2') });
  git(f, 'commit', '-qam', 'edge: a=2, cpu 2');
  write(f, { 'clusters/e1/all.yaml': [ns, cm('edge-cfg', '2'), limits('edge-limits', '2')].join('---\n') });
  const s2 = await scan();
  t.equal(s2.code, 0, s2.stderr);

  const c = await runCli(['history', 'convergence', '--history', store, '--fleet', fleetFile, '--format', 'json']);
  t.equal(c.code, 1, 'e2 has not converged: exit 1');
  const conv = JSON.parse(c.stdout);
  const objects = conv.objects.map((o: { resource: string; file: string; layer: string; clusters: number; inSync: number; differing: { cluster: string; state: string }[] }) => [
    o.resource,
    o.file,
    o.layer,
    `${o.inSync}/${o.clusters}`,
    o.differing.map((d) => `${d.cluster} ${d.state}`),
  ]);
  t.same(
    objects.sort(),
    [
      ['ConfigMap shop/edge-cfg', 'repo/overlays/edge/', 'overlays/edge', '1/2', ['e2 modified']],
      ['LimitRange shop/edge-limits', 'repo/overlays/edge/', 'overlays/edge', '1/2', ['e2 modified']],
    ],
    'the rendered objects the commit changed, named as kustomize names them, on the edge clusters only',
  );
  t.same(conv.warnings, [], 'everything rendered');
  t.notOk(conv.objects.some((o: { resource: string }) => o.resource === 'Namespace/shop'), 'an unchanged object of the layers is not listed');
  const reason = conv.objects.find((o: { resource: string }) => o.resource === 'ConfigMap shop/edge-cfg').differing[0].reason;
  t.match(reason, /\$\.data\.a desired "2", live "1"/, 'with the difference as the reason');

  const pretty = await runCli(['history', 'convergence', '--history', store, '--fleet', fleetFile, '--format', 'pretty']);
  t.match(pretty.stdout, /✗ ConfigMap shop\/edge-cfg {2}in sync on 1\/2 clusters {2}repo\/overlays\/edge\/ \(layer overlays\/edge\)\n {4}e2 {2}modified/);
});
