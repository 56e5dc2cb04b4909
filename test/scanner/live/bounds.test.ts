import t from 'tap';
import { ClusterReadError, readLiveCluster, type LiveReadOptions } from '../../../scanner/live/index.js';
import { buildFleetReport, scanCluster, type ClusterReport } from '../../../scanner/scan.js';
import { sampleObjects, SCAN_KINDS, RESOURCE_TYPES } from '../../../testkit/api-double.js';
import { fixture, FAST_RETRY } from '../../helpers/api-fixtures.js';

/** What a hostile or broken API server cannot do to the reader: every bound, against the API double. */

const base: Omit<LiveReadOptions, 'kubeconfig'> = { kinds: SCAN_KINDS, pageSize: 2, retry: FAST_RETRY, timeoutMs: 20_000 };

async function readError(p: Promise<unknown>): Promise<ClusterReadError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ClusterReadError) return err;
    throw err;
  }
  throw new Error('the read succeeded');
}

t.test('a cluster whose lists are all forbidden is an error with the reason, not an empty ok cluster', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const all = RESOURCE_TYPES.map((r) => (r.group ? `${r.name}.${r.group}` : r.name));
  const kc = fx.cluster('locked', { objects: sampleObjects({ namespaces: 1 }), faults: { forbidden: all } });
  const err = await readError(readLiveCluster({ ...base, kubeconfig: kc }));
  t.equal(err.status, 'error');
  t.match(err.message, /every list was forbidden \(403\): the scanner's identity lacks the RBAC verb "list" on namespaces, pods, .*deployments\.apps/);
  // one allowed list is enough to be a (partial) read
  const some = fx.cluster('partial', { objects: sampleObjects({ namespaces: 1 }), faults: { forbidden: all.filter((r) => r !== 'namespaces') } });
  const r = await readLiveCluster({ ...base, kubeconfig: some });
  t.ok(r.objects.every((o) => o.kind === 'Namespace') && r.objects.length > 0);
});

t.test('a forbidden-everywhere cluster is left out of the fleet score', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const all = RESOURCE_TYPES.map((r) => (r.group ? `${r.name}.${r.group}` : r.name));
  const kcs = { open: fx.cluster('open', { objects: sampleObjects({ namespaces: 1 }) }), locked: fx.cluster('locked', { objects: sampleObjects({ namespaces: 1 }), faults: { forbidden: all } }) };
  const { DesiredState } = await import('../../../scanner/desired.js');
  const { createEvaluator } = await import('../../../src/engine/index.js');
  const { builtinPolicies: policies } = await import('../../../policies/index.js');
  const fleet = {
    file: 'fleet.yaml', repo: '.', layers: [], owned: [], parameters: {}, actions: {}, overrides: [], timeoutSeconds: 20, allowExecPlugins: [],
    clusters: Object.entries(kcs).map(([name, kubeconfig], index) => ({ name, labels: {}, source: { kubeconfig }, index })),
  };
  const runtime = await createEvaluator(policies, {});
  t.teardown(() => runtime.close());
  const reports: ClusterReport[] = [];
  for (const c of fleet.clusters) reports.push(await scanCluster(fleet, c, runtime, { policies, desired: new DesiredState([]) }));
  t.equal(reports[1].status, 'error');
  t.match(reports[1].error, /every list was forbidden/);
  t.equal(reports[1].score, null);
  const fleetReport = buildFleetReport(reports, 'fleet.yaml');
  t.equal(fleetReport.score, reports[0].score, 'the fleet score is the open cluster\'s alone');
  t.same(fleetReport.summary, { clusters: 2, scored: 1, unreachable: 0, error: 1 });
});

t.test('a server that pages forever with fresh continue tokens is stopped by the object budget', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const kc = fx.cluster('runaway', { objects: sampleObjects({ namespaces: 2 }), faults: { endlessContinue: true } });
  const err = await readError(readLiveCluster({ ...base, kubeconfig: kc, maxObjects: 500 }));
  t.equal(err.status, 'error');
  t.match(err.message, /more than 500 objects \(the per-cluster budget\) listing /);
  const pages = fx.api.cluster('runaway').requests.filter((r) => r.fault === 'endlessContinue').length;
  t.ok(pages < 400, `stopped after ${pages} pages`);
});

t.test('the byte budget stops a read that would hold too much', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const kc = fx.cluster('bulky', { objects: sampleObjects({ namespaces: 2 }), faults: { endlessContinue: true } });
  const err = await readError(readLiveCluster({ ...base, kubeconfig: kc, maxBytes: 64 * 1024 }));
  t.match(err.message, /more than 65536 bytes of responses \(the per-cluster budget\)/);
});

t.test('a response over the size limit is not retried', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const kc = fx.cluster('big', { objects: sampleObjects({ namespaces: 3 }) });
  const err = await readError(readLiveCluster({ ...base, kubeconfig: kc, pageSize: 500, maxResponseBytes: 2_000 }));
  t.equal(err.status, 'error');
  t.match(err.message, /response larger than 2000 bytes .*not retried/);
  const lists = fx.api.cluster('big').requests.filter((r) => /^\/api\/v1\/|^\/apis\/[^/]+\/[^/]+\/[a-z]/.test(r.path) && r.path.split('/').length > 3);
  const counts = new Map<string, number>();
  for (const r of lists) counts.set(r.path, (counts.get(r.path) ?? 0) + 1);
  t.ok([...counts.values()].every((n) => n === 1), `each request made once: ${JSON.stringify([...counts])}`);
});

t.test('list items that are not objects are reported, never turned into objects', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const objects = sampleObjects({ namespaces: 1 });
  const kc = fx.cluster('odd', { objects, faults: { extraItems: [null, 5, 'x', [1, 2], true] } });
  const r = await readLiveCluster({ ...base, kubeconfig: kc, pageSize: 500 });
  const clean = await readLiveCluster({ ...base, kubeconfig: fx.cluster('clean', { objects }), pageSize: 500 });
  t.equal(r.objects.length, clean.objects.length, 'only the real objects');
  t.ok(r.objects.every((o) => o && typeof o === 'object' && !Array.isArray(o) && typeof o.metadata?.name === 'string' && o.metadata.name !== ''));
  t.ok(r.warnings.some((w) => /^v1 Namespace: the server sent 5 list items that are not objects \(null, number, string, list, boolean\); ignored$/.test(w)), r.warnings.join('\n'));
});
