import t from 'tap';
import { FleetFileError, parseFleet } from '../../scanner/fleet.js';

const errorsOf = (text: string) => {
  try {
    parseFleet(text, 'fleet.yaml');
  } catch (err) {
    if (err instanceof FleetFileError) return err.errors;
    throw err;
  }
  return [];
};

t.test('a valid fleet file resolves paths and keeps cluster order', async (t) => {
  const f = parseFleet(
    `repo: ./repo\nlayers:\n  - path: base\n  - path: overlays/edge\n    when: { type: edge }\nowned: [NetworkPolicy]\nclusters:\n  - name: par01\n    labels: { type: edge }\n    source: { snapshot: clusters/par01 }\n  - name: fra01\n    source: { kubeconfig: ~/.kube/config, context: fra01 }\n`,
    '/x/fleet.yaml',
  );
  t.equal(f.repo, '/x/repo');
  t.equal(f.layers[1].dir, '/x/repo/overlays/edge');
  t.same(f.layers[1].when, { type: 'edge' });
  t.same(f.clusters[0].source, { snapshot: '/x/clusters/par01' });
  t.notMatch((f.clusters[1].source as { kubeconfig: string }).kubeconfig, /~/);
  t.equal(f.clusters[1].index, 1);
  t.same(f.owned, ['NetworkPolicy']);
});

t.test('schema mistakes are reported with their line and column', async (t) => {
  const errs = errorsOf(
    [
      'repo: ./repo', //1
      'layers:', //2
      '  - path: base', //3
      '    whne: { type: edge }', //4
      'clusters:', //5
      '  - name: par01', //6
      '    labels: { cohort: 1 }', //7
      '    source: { snapshot: a, kubeconfig: b }', //8
      '  - labels: {}', //9
      '    source: { snapshot: x }', //10
    ].join('\n'),
  );
  const byLine = (l: number) => errs.filter((e) => e.line === l).map((e) => e.message);
  t.match(byLine(4).join(), /layers\[0\]: unknown field "whne"/);
  t.match(byLine(7).join(), /clusters\[0\]\.labels\.cohort: must be string/);
  t.match(byLine(8).join(), /clusters\[0\]\.source: must be either/);
  t.match(byLine(9).join(), /clusters\[1\]: missing required field "name"/);
  t.ok(errs.every((e) => e.file === 'fleet.yaml'));
});

t.test('duplicate cluster names, bad YAML and a missing repo are errors', async (t) => {
  const dup = errorsOf('repo: r\nlayers: [{ path: base }]\nclusters:\n  - { name: a, source: { snapshot: x } }\n  - { name: a, source: { snapshot: y } }\n');
  t.equal(dup.length, 1);
  t.equal(dup[0].line, 5);
  t.match(dup[0].message, /already used by clusters\[0\]/);
  const bad = errorsOf('repo: r\nlayers: [\n');
  t.ok(bad.length >= 1);
  t.ok(bad[0].line);
  const missing = errorsOf('layers: [{ path: base }]\nclusters: []\n');
  t.match(missing[0].message, /missing required field "repo"/);
  t.equal(missing[0].line, 1);
});
