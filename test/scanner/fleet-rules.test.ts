// Fleet-scope rules over real files: a fleet whose federated mesh points at a cluster without the Service and at
// one that cannot be read, judged by `fleetgate scan` (a spawned process), sharded and merged, and the evaluator's
// guarantees (a rule that throws is an error for that rule, objects are read-only).
import t from 'tap';
import { join } from 'node:path';
import { defineFleetPolicy, type KubeObject } from '../../src/index.js';
import { evaluateFleet } from '../../src/engine/index.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { fleetFindings, makeFleet, ns, put, serviceEntry, svc } from '../helpers/fleet-rules-fleet.js';

t.test('scan runs fleet rules after every cluster: findings on the cluster that holds the resource, unknowns never pass', async (t) => {
  const root = await tempDir(t, 'fleetgate-fleet-');
  const fleet = await makeFleet(root);
  const r = await runCli(['scan', '--fleet', fleet, '--format', 'json']);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  t.same(fleetFindings(report), [
    'par01 mesh.global-endpoints-exist $.spec.endpoints[1]: endpoint "ledger.ams01.internal" of "ledger.payments.svc.cluster.global" points to cluster "ams01", which runs no Service payments/ledger',
    'par01 mesh.global-endpoints-exist $.spec.endpoints[3]: endpoint "ledger.nowhere.internal" of "ledger.payments.svc.cluster.global" names cluster "nowhere", which is not in the fleet',
  ]);
  const rule = report.fleetRules.rules.find((x: any) => x.policy === 'mesh.global-endpoints-exist');
  t.equal(rule.findings, 2);
  t.match(rule.unknown, [{ cluster: 'tyo01', reason: /cannot tell whether tyo01 runs Service payments\/ledger .*unreachable/ }], 'the unreadable cluster is unknown, not a pass');
  const par = report.clusters.find((c: any) => c.name === 'par01');
  t.same(par.policies['mesh.global-endpoints-exist'], { severity: 'high', checks: 1, failed: 1 }, 'the fleet finding counts in the score of the cluster that holds the ServiceEntry');
  t.ok(par.score < 100);
  t.notOk('fleetIndex' in par, 'the index a fleet rule needed is not in the report');
  const pretty = await runCli(['scan', '--fleet', fleet, '--format', 'pretty']);
  t.match(pretty.stdout, /Fleet rules\n.*mesh\.global-endpoints-exist\s+2 finding\(s\); unknown on tyo01/s);
  const html = await runCli(['scan', '--fleet', fleet, '--format', 'html']);
  t.match(html.stdout, /<h2>Fleet rules<\/h2>.*mesh\.global-endpoints-exist.*tyo01/s);
});

t.test('the evaluator: a throwing rule is an error for that rule only; objects are read-only; unknown on unreadable clusters', async (t) => {
  const throws = defineFleetPolicy({
    id: 'test.throws', title: 't', area: 'test', severity: 'low', action: 'warn', scope: 'fleet', match: { kinds: ['Service'] },
    validate() {
      throw new Error('boom');
    },
    examples: { pass: [{ clusters: [] }], fail: [{ clusters: [] }] },
  });
  const mutates = defineFleetPolicy({
    id: 'test.mutates', title: 't', area: 'test', severity: 'low', action: 'warn', scope: 'fleet', match: { kinds: ['Service'] },
    validate({ clusters, report }) {
      for (const c of clusters)
        for (const s of c.inventory.list('Service')) {
          try {
            (s.metadata as Record<string, unknown>).name = 'changed';
          } catch {
            report(c.name, s, 'read-only');
          }
        }
    },
    examples: { pass: [{ clusters: [] }], fail: [{ clusters: [] }] },
  });
  const service: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ledger', namespace: 'payments' } };
  const result = evaluateFleet([throws, mutates], [
    { name: 'fra01', labels: {}, status: 'ok', objects: [service] },
    { name: 'tyo01', labels: {}, status: 'unreachable', error: 'timeout', objects: [service] },
  ]);
  t.match(result.rules, [{ policy: 'test.throws', error: 'policy error: boom' }, { policy: 'test.mutates', findings: 1 }]);
  t.same(result.findings.map((f) => [f.cluster, f.message]), [['fra01', 'read-only']], 'the object could not be changed; the unreadable cluster shows no objects');
  t.equal(service.metadata?.name, 'ledger');
});

t.test('lint and serve skip fleet-scope policies (they need a fleet)', async (t) => {
  const root = await tempDir(t, 'fleetgate-fleet-');
  await put(root, 'se.yaml', `${ns()}---\n${serviceEntry(['nowhere'])}`);
  const r = await runCli(['lint', join(root, 'se.yaml'), '--format', 'json']);
  const findings = JSON.parse(r.stdout).findings;
  t.notOk(findings.some((f: any) => f.policy === 'mesh.global-endpoints-exist'), 'no fleet rule ran on a single inventory');
  const summary = JSON.parse(r.stdout).summary;
  t.match(summary.fleetRules, { skipped: /lint --fleet FILE/ }, 'and lint says it skipped them');
  t.same(summary.fleetRules.rules.map((x: any) => x.policy).sort(), ['fleet.blast-radius', 'fleet.overlay-consistency', 'gdpr.mesh-residency', 'mesh.global-endpoints-exist']);
  t.notOk(findings.some((f: any) => f.cluster), 'findings of plain lint name no cluster');
  const pretty = await runCli(['lint', join(root, 'se.yaml'), '--format', 'pretty']);
  t.match(pretty.stdout, /Fleet rules skipped \(.*mesh\.global-endpoints-exist.*\): .*lint --fleet FILE/);
  const listed = JSON.parse((await runCli(['policies', '--format', 'json'])).stdout);
  t.same(
    listed.filter((p: any) => p.scope === 'fleet').map((p: any) => p.id).sort(),
    ['fleet.blast-radius', 'fleet.overlay-consistency', 'gdpr.mesh-residency', 'mesh.global-endpoints-exist'],
    'fleetgate policies lists them with scope "fleet"',
  );
});
