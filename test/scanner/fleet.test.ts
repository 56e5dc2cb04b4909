import t from 'tap';
import { parseDocument } from 'yaml';
import { FLEET_PARSE_BATCH, FleetFileError, parseFleet, parseInBatches } from '../../scanner/fleet.js';

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

// Issue #17: a large fleet file is parsed in batches of clusters (parseInBatches) instead of one yaml Document with
// every node's position; its values must be the whole parse's, and its errors still carry file:line:column.
const bigFleet = (n: number, line: (i: number) => string[] = (i) => [`  - name: c${i}`, `    labels: { region: r${i % 3} }`, `    source: { snapshot: clusters/c${i} }`]) =>
  ['repo: ./repo', 'layers:', '  - path: base', 'clusters:', ...Array.from({ length: n }, (_, i) => line(i)).flat(), 'owned: [NetworkPolicy]', ''].join('\n');

t.test('a fleet file of many clusters is parsed in batches to the values of one whole parse', async (t) => {
  const text = bigFleet(3 * FLEET_PARSE_BATCH + 5);
  const batched = parseInBatches(text);
  t.ok(batched, 'the layout of a generated fleet file is parsed in batches');
  t.same(batched, parseDocument(text).toJS());
  t.equal(JSON.stringify(batched), JSON.stringify(parseDocument(text).toJS()), 'keys in the same order');
  const f = parseFleet(text, '/x/fleet.yaml');
  t.equal(f.clusters.length, 3 * FLEET_PARSE_BATCH + 5);
  t.same(f.clusters[FLEET_PARSE_BATCH + 1], { name: `c${FLEET_PARSE_BATCH + 1}`, labels: { region: `r${(FLEET_PARSE_BATCH + 1) % 3}` }, source: { snapshot: `/x/clusters/c${FLEET_PARSE_BATCH + 1}` }, parameters: undefined, actions: undefined, index: FLEET_PARSE_BATCH + 1 });
  t.same(f.owned, ['NetworkPolicy']);
});

t.test('batches split only where the whole parse starts a cluster; anything else is parsed whole', async (t) => {
  const layouts = [
    'repo: r\nclusters:\n- name: a\n  source: {snapshot: x}\n- name: b\n  source: {snapshot: y}\nlayers: [{path: base}]\n',
    'repo: r\nclusters: # c\n  # a comment\n  - name: a\n    parameters:\n      script: |\n        - not an entry\n        # not a comment\n\n  - name: b\n# a top-level comment\n  - name: c\nowned: [X]\n',
    'repo: r\r\nclusters:\r\n  - name: a\r\n  - name: b\r\n',
    'repo: r\nclusters:\n  - name: a\n    s: >-\n      folded\n      text\n\n  - - x\n    - y\n  -\n  - name: b\n',
  ];
  for (const text of layouts) for (const batch of [1, 2]) t.equal(JSON.stringify(parseInBatches(text, batch)), JSON.stringify(parseDocument(text).toJS()), JSON.stringify(text));
  const whole = [
    'repo: r\nclusters:\n  - name: a\n    labels: &l { x: y }\n  - name: b\n    labels: *l\n', // an alias across batches
    'repo: r\nclusters:\n  - name: a\n    msg: "hello\n  - world"\n  - name: b\n', // inside a quoted scalar
    'repo: r\nclusters:\n  - name: a\n    l: [1,\n  - 2]\n', // inside a flow collection
    'repo: "a\nclusters:\n  - name: b\nx: c"\n', // clusters: inside the rest's quoted scalar
    'repo: r\nclusters:\n  - name: a\nclusters:\n  - name: b\n',
    'repo: r\nclusters:\n  - name: a\n  x: 1\n',
    'repo: r\nclusters: []\n',
    '%YAML 1.2\n---\nrepo: r\nclusters:\n  - a\n',
  ];
  for (const text of whole) t.equal(parseInBatches(text, 1), undefined, JSON.stringify(text));
  const aliased = 'repo: r\nlayers: [{ path: base }]\nclusters:\n  - name: a\n    labels: &l { x: y }\n    source: { snapshot: a }\n  - name: b\n    labels: *l\n    source: { snapshot: b }\n';
  t.same(parseFleet(aliased, '/x/fleet.yaml').clusters[1].labels, { x: 'y' }, 'parsed whole, the alias resolves');
});

t.test('the errors of a fleet file of many clusters carry its file, line and column', async (t) => {
  const n = 2 * FLEET_PARSE_BATCH + 10;
  // clusters[i] starts at line 5 + 3i; cluster 300 has a label that is not a string, cluster 400 reuses cluster 7's name
  const text = bigFleet(n, (i) => [`  - name: ${i === 400 ? 'c7' : `c${i}`}`, `    labels: { region: ${i === 300 ? '[x]' : `r${i}`} }`, `    source: { snapshot: clusters/c${i} }`]);
  const schema = errorsOf(text);
  t.same(schema.map((e) => [e.file, e.line, e.message]), [['fleet.yaml', 5 + 3 * 300 + 1, 'clusters[300].labels.region: must be string']]);
  t.ok(schema[0].column);
  const dup = errorsOf(text.replace('region: [x]', 'region: x'));
  t.same(dup.map((e) => [e.file, e.line, e.column, e.message]), [['fleet.yaml', 5 + 3 * 400, 11, 'clusters[400].name: "c7" is already used by clusters[7]']]);
  const yaml = errorsOf(text.replace('    source: { snapshot: clusters/c450 }', '    source: { snapshot: clusters/c450'));
  t.ok(yaml.length >= 1);
  t.ok(yaml.every((e) => e.file === 'fleet.yaml' && e.line && e.line >= 5 + 3 * 450), 'a YAML error is located at or after its line');
});
