import t from 'tap';
import { loadText } from '../../src/loading/manifests.js';

/** The compact position index (src/loading/source-map.ts) follows merges, aliases and self-references as go-yaml v2 reads them. */

const text = `apiVersion: v1
kind: ConfigMap
metadata:
  name: merged
  labels: &base
    app: web
    tier: front
  annotations:
    <<: *base
    tier: back
data:
  a: &s {x: "1"}
  b: *s
spec:
  self: &self
    child: *self
`;

t.test('merge keys, aliases and a self-referencing anchor map to the text that set the value', async (t) => {
  const r = loadText(text, 'm.yaml');
  const at = (...path: (string | number)[]) => r.resources[0].locate?.(path);
  t.same(at('metadata', 'annotations', 'app'), { file: 'm.yaml', line: 6, column: 5 }, 'a merged key points into the merged map');
  t.same(at('metadata', 'annotations', 'tier'), { file: 'm.yaml', line: 10, column: 5 }, 'a key after << overrides it');
  t.same(at('data', 'b'), { file: 'm.yaml', line: 13, column: 3 }, 'the alias itself is where it is used');
  t.same(at('data', 'b', 'x'), { file: 'm.yaml', line: 12, column: 10 }, 'inside an alias: the anchor');
  t.same(at('spec', 'self', 'child', 'child', 'child'), { file: 'm.yaml', line: 16, column: 5 }, 'a cycle is walked, not expanded');
  t.same(at('spec', 'self', 'nope'), { file: 'm.yaml', line: 15, column: 3 }, 'a missing key: its parent');
  t.same(at('metadata', 'labels', 0), { file: 'm.yaml', line: 5, column: 3 }, 'an index into a map: the map');
});

t.test('a JSON List is indexed on the first finding that asks, every item at its own line', async (t) => {
  const list = { kind: 'List', apiVersion: 'v1', items: [0, 1, 2].map((i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}` }, spec: { hostPID: true } })) };
  const r = loadText(JSON.stringify(list, null, 2), 'l.json');
  t.same(r.resources.map((x) => x.locate?.(['spec', 'hostPID'])?.line), [12, 22, 32]);
  t.same(r.resources[2].locate?.(['spec', 'hostPID']), { file: 'l.json', line: 32, column: 9 });
});

t.test('an object changed after loading gets no guessed position below the change', async (t) => {
  const r = loadText(text, 'm.yaml');
  const data = r.resources[0].object.data as Record<string, unknown>;
  data.c = 'added';
  t.same(r.resources[0].locate?.(['data', 'a', 'x']), { file: 'm.yaml', line: 11, column: 1 }, 'stops at the changed map');
});
