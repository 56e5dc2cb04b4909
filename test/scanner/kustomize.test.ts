import t from 'tap';
import { join } from 'node:path';
import { findKubectl, loadLayer } from '../../scanner/desired.js';
import type { FleetError } from '../../scanner/fleet.js';

const files = {
  base: {
    'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n',
    kustom: {
      'kustomization.yaml': 'resources: [cm.yaml]\nnamePrefix: edge-\n',
      'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg, namespace: shop }\ndata: { a: "1" }\n',
    },
    sublayer: { 'other.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: other, namespace: shop }\n' },
  },
};

t.test('a layer leaves out sub-layers; kustomize folders are rendered by kubectl', async (t) => {
  const dir = t.testdir(files);
  const errors: FleetError[] = [];
  const kubectl = await findKubectl();
  const objs = await loadLayer({ path: 'base', dir: join(dir, 'base') }, new Set([join(dir, 'base', 'sublayer')]), errors);
  const names = objs.map((o) => o.metadata?.name);
  t.notOk(names.includes('other'), 'a folder that is a layer of its own is read once, as its own layer');
  t.ok(names.includes('shop'));
  if (!kubectl) {
    t.match(errors[0]?.message, /kubectl is not on PATH/);
    return;
  }
  t.same(errors, []);
  t.ok(names.includes('edge-cfg'), 'rendered with kubectl kustomize');
});

t.test('without kubectl on PATH a kustomize folder is a clear error', async (t) => {
  const dir = t.testdir(files);
  const saved = process.env.PATH;
  process.env.PATH = '';
  t.teardown(() => void (process.env.PATH = saved));
  const errors: FleetError[] = [];
  await loadLayer({ path: 'base', dir: join(dir, 'base') }, new Set(), errors);
  t.equal(errors.length, 1);
  t.match(errors[0].file, /kustom$/);
  t.match(errors[0].message, /needs `kubectl kustomize`, but kubectl is not on PATH/);
});
