import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { lineDiff, setRolloutStatus } from '../../rollout/status-edit.js';

const head = `# Roll restricted PSS out by cohort
apiVersion: fleetgate.io/v1alpha1
kind: PolicyRollout
metadata: { name: restricted }   # flow map, kept
spec:
  policies: ["pss.restricted.*"]
  stages:
    - { cohorts: ["0"], action: deny }
    - { cohorts: ["1"], action: warn, soak: 48h }
`;

t.test('a flow status is rewritten in place, its comment and every other byte kept', async (t) => {
  const src = `${head}status: { stage: 0, since: "2026-11-01T00:00:00Z" }   # written by rollout advance\n# trailing comment\n`;
  const out = setRolloutStatus(src, 'restricted', { stage: 1, since: '2026-12-01T09:00:00Z' });
  t.equal(out, `${head}status: { stage: 1, since: "2026-12-01T09:00:00Z" }   # written by rollout advance\n# trailing comment\n`);
});

t.test('a block status has only its lines replaced', async (t) => {
  const src = `${head}status:\n  stage: 0\n  since: "2026-11-01T00:00:00Z"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\n`;
  const out = setRolloutStatus(src, 'restricted', { stage: 1, since: '2026-12-01T09:00:00Z', paused: true });
  t.equal(out, `${head}status:\n  stage: 1\n  since: "2026-12-01T09:00:00Z"\n  paused: true\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\n`);
  const docs = parseAllDocuments(out);
  t.same((docs as { toJS(): { status?: unknown } }[])[0].toJS().status, { stage: 1, since: '2026-12-01T09:00:00Z', paused: true });
});

t.test('a rollout without status gets one after its last key; other documents untouched', async (t) => {
  const other = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: before}\n---\n`;
  const src = `${other}${head}---\n${other}`;
  const out = setRolloutStatus(src, 'restricted', { stage: 0, since: '2026-12-01T09:00:00Z' });
  t.equal(out, `${other}${head}status:\n  stage: 0\n  since: "2026-12-01T09:00:00Z"\n---\n${other}`);
});

t.test('a file without the named rollout is an error', async (t) => {
  t.throws(() => setRolloutStatus(head, 'other', { stage: 0 }), /no PolicyRollout named "other"/);
});

t.test('lineDiff shows only the changed lines', async (t) => {
  const d = lineDiff('a\nb\nc\n', 'a\nB\nc\n', 'f.yaml');
  t.equal(d, '--- f.yaml\n+++ f.yaml\n@@ -2,1 +2,1 @@\n-b\n+B\n');
});
