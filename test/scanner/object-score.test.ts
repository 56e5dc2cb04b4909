import t from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ObjectTally, objectParts, rescoreForFleet, fleetObjectScore } from '../../scanner/score.js';
import type { FleetReport } from '../../scanner/scan.js';
import type { KubeObject, Policy } from '../../src/index.js';
import { runCli, tempDir } from '../helpers/cli.js';

t.test('objectScore: each object once, weighed by its worst policy, failed by any failed check', async (t) => {
  const tally = new ObjectTally();
  tally.judge('apps/Deployment/a/web', 10); // a critical policy applied, passed
  tally.judge('apps/Deployment/a/web', 2); // a lighter one too: the weight stays 10
  tally.judge('apps/Deployment/a/api', 5);
  tally.judge('apps/Deployment/a/api', 1, true); // a failed low check fails the whole object at its weight 5
  tally.judgeSync(['/ConfigMap/a/cfg', '/ConfigMap/a/gone'], [{ resource: { apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', namespace: 'a' } }]);
  // web 10 passed, api 5 failed, cfg 5 passed (in sync), gone 5 failed (missing): 15 / 25
  t.same(tally.parts(), { objectScore: 60, objectTotalWeight: 25, objectPassedWeight: 15 });
  t.same(new ObjectTally().parts(), { objectScore: 100, objectTotalWeight: 0, objectPassedWeight: 0 }, 'nothing judged: 100, as score');
  t.equal(fleetObjectScore([{ objectScore: 60 }, { objectScore: null }, { objectScore: 81 }]), 70.5, 'fleet: mean of the scored clusters');
});

t.test('a fleet rule raises the weight of the objects it applies to and fails those it reports', async (t) => {
  const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const rule = { policy: { id: 'fleet.x', severity: 'critical' } as Policy, applies: (o: KubeObject) => o.kind === 'Namespace', failed: new Set(['/Namespace//b']) };
  // before: a (weight 2, passed), b (weight 2, passed), c (not judged): total 4, passed 4
  const after = rescoreForFleet(objectParts(4, 4), { '/Namespace//a': { weight: 2, failed: false }, '/Namespace//b': { weight: 2, failed: false } }, [ns('a'), ns('b'), ns('c')], [rule]);
  // after: a 10 passed, b 10 failed, c 10 passed: 20 / 30
  t.same(after, { objectScore: 66.7, objectTotalWeight: 30, objectPassedWeight: 20 });
});

/** A Deployment the built-in packs pass (one replica: no PodDisruptionBudget needed), or one that runs privileged. */
function deployment(name: string, privileged: boolean): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop', labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'app',
              image: 'registry.example.com/shop/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true, ...(privileged ? { privileged: true } : {}) },
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
              livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
              readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
            },
          ],
        },
      },
    },
  };
}

t.test('a generated fleet: clusters with more failing objects separate on objectScore, not on score', async (t) => {
  const dir = await tempDir(t, 'fleetgate-object-score-');
  await mkdir(join(dir, 'repo', 'base'), { recursive: true });
  await writeFile(join(dir, 'repo', 'base', 'ns.yaml'), stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shop-settings', namespace: 'shop' }, data: { mode: 'on' } }));
  const CLUSTERS = 13;
  const OBJECTS = 300;
  const clusters = [];
  for (let i = 0; i < CLUSTERS; i++) {
    const failing = 46 + 2 * i; // 46 … 70 failing objects, as the operators' fleet
    const objects: KubeObject[] = [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shop-settings', namespace: 'shop' }, data: { mode: 'on' } }];
    for (let n = 0; n < OBJECTS; n++) objects.push(deployment(`app-${n}`, n < failing));
    const name = `c${String(i).padStart(2, '0')}`;
    await mkdir(join(dir, 'clusters', name), { recursive: true });
    await writeFile(join(dir, 'clusters', name, 'all.yaml'), objects.map((o) => stringify(o)).join('---\n'));
    clusters.push({ name, labels: { region: 'europe' }, source: { snapshot: `clusters/${name}` } });
  }
  await writeFile(join(dir, 'fleet.yaml'), stringify({ repo: './repo', layers: [{ path: 'base' }], clusters }));

  const r = await runCli(['scan', '--fleet', join(dir, 'fleet.yaml'), '--format', 'json']);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as FleetReport;
  const scored = report.clusters.filter((c) => c.status === 'ok');
  t.equal(scored.length, CLUSTERS, 'every cluster scored');
  const scores = scored.map((c) => c.score!);
  const objectScores = scored.map((c) => c.objectScore!);
  const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  t.ok(spread(scores) < 1, `score barely moves: ${Math.min(...scores)}–${Math.max(...scores)}`);
  t.ok(spread(objectScores) >= 5, `objectScore spreads: ${Math.min(...objectScores)}–${Math.max(...objectScores)}`);
  for (let i = 1; i < scored.length; i++) t.ok(objectScores[i] < objectScores[i - 1], `${scored[i].name} (more failing objects) ranks below ${scored[i - 1].name}`);
  // Every failing object weighs as much as its worst policy, whatever it failed: its weight counts against it once.
  const first = scored[0];
  t.equal(first.findings.filter((f) => f.resource.kind === 'Deployment').length >= 46, true, 'the privileged deployments have findings');
  // pss.baseline.privileged (critical, 10) judges every Deployment: the 46 privileged ones fail at weight 10 each.
  t.equal(first.objectTotalWeight! - first.objectPassedWeight!, 46 * 10, 'failed weight: 46 objects at their weight');
  t.ok(first.objectTotalWeight! >= OBJECTS * 10, 'every deployment weighs 10');
  t.equal(report.objectScore, Math.round((objectScores.reduce((a, b) => a + b, 0) / CLUSTERS) * 10) / 10, 'fleet objectScore: the mean');
});

t.test('the HTML report sorts clusters by objectScore and marks 0% pass', async (t) => {
  const base = { index: 0, labels: { region: 'europe' }, status: 'ok' as const, layers: [], desired: 0, inSync: 0, objects: 3, totalWeight: 10, passedWeight: 9, drift: [], findings: [], policies: {}, waived: 0, warnings: [] };
  const report = {
    score: 97.3,
    objectScore: 40,
    fleet: 'fleet.yaml',
    summary: { clusters: 3, scored: 3, unreachable: 0, error: 0 },
    clusters: [
      { ...base, name: 'high-score-all-failing', score: 99.5, objectScore: 0, objectTotalWeight: 30, objectPassedWeight: 0 },
      { ...base, name: 'low-score', score: 93, objectScore: 90, objectTotalWeight: 30, objectPassedWeight: 27 },
      { ...base, name: 'middle', score: 99.4, objectScore: 30, objectTotalWeight: 30, objectPassedWeight: 9 },
    ],
  };
  const { formatHtml } = await import('../../scanner/html.js');
  const html = formatHtml(report);
  const order = [...html.matchAll(/<summary><b>([^<]+)<\/b>/g)].map((m) => m[1]);
  t.same(order, ['high-score-all-failing', 'middle', 'low-score'], 'cluster sections worst first by object score');
  t.match(html, /<summary><b>high-score-all-failing<\/b> — <span class="zero">0% PASS<\/span> score <b[^>]*>99\.5<\/b>, object score <b[^>]*>0\.0<\/b>/, 'no judged object passes: marked, whatever score says');
  t.notMatch(html, /<summary><b>middle<\/b> — <span class="zero">/, 'only there');
  t.match(html, /Object score <b[^>]*>40\.0<\/b> \/ 100/, 'fleet object score in the header');
  t.match(html, /Object score per cluster, worst first/, 'object score chart');
});
