// Fleet-scope rules over shards: `scan --shard` defers them, `scan merge` judges the whole fleet over the shards'
// indexes as one scan does (findings, unknowns of the unreadable cluster, scores). Split from fleet-rules.test.ts
// (tap's 120 s per file on a loaded machine).
import t from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';

async function put(root: string, file: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, file)), { recursive: true });
  await writeFile(join(root, file), text);
}

const HOST = 'ledger.payments.svc.cluster.global';
const serviceEntry = (endpoints: string[]) => `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: ledger-global, namespace: payments }
spec:
  hosts: [${HOST}]
  location: MESH_INTERNAL
  resolution: DNS
  ports: [{ number: 8443, name: https, protocol: HTTPS }]
  endpoints:
${endpoints.map((c) => `    - { address: ledger.${c}.internal, locality: eu-central-1/${c}, labels: { cluster: ${c} } }`).join('\n')}
`;
const ns = (labels = '{}') => `apiVersion: v1\nkind: Namespace\nmetadata: { name: payments, labels: ${labels} }\n`;
const svc = 'apiVersion: v1\nkind: Service\nmetadata: { name: ledger, namespace: payments }\nspec: { ports: [{ port: 8443 }] }\n';

/** par01 imports the ledger from fra01 (runs it), ams01 (does not) and tyo01 (cannot be read). */
async function makeFleet(root: string): Promise<string> {
  await put(root, 'fleet.yaml', `repo: ./repo
layers: [{ path: base }]
clusters:
  - { name: par01, labels: { region: europe }, source: { snapshot: clusters/par01 } }
  - { name: fra01, labels: { region: europe }, source: { snapshot: clusters/fra01 } }
  - { name: ams01, labels: { region: europe }, source: { snapshot: clusters/ams01 } }
  - { name: tyo01, labels: { region: apac }, source: { snapshot: clusters/tyo01-not-there } }
`);
  await put(root, 'repo/base/ns.yaml', ns());
  await put(root, 'clusters/par01/all.yaml', `${ns()}---\n${serviceEntry(['fra01', 'ams01', 'tyo01', 'nowhere'])}`);
  await put(root, 'clusters/fra01/all.yaml', `${ns()}---\n${svc}`);
  await put(root, 'clusters/ams01/all.yaml', ns());
  return join(root, 'fleet.yaml');
}

function fleetFindings(report: any): string[] {
  return report.clusters.flatMap((c: any) => c.findings.filter((f: any) => f.cluster).map((f: any) => `${f.cluster} ${f.policy} ${f.path}: ${f.message}`)).sort();
}

t.test('with --shard the fleet rules are deferred, and scan merge judges the whole fleet as one scan does', async (t) => {
  const root = await tempDir(t, 'fleetgate-fleet-');
  const fleet = await makeFleet(root);
  const whole = JSON.parse((await runCli(['scan', '--fleet', fleet, '--format', 'json'])).stdout);
  const files: string[] = [];
  for (const i of [0, 1]) {
    const out = join(root, `shard-${i}.json`);
    const r = await runCli(['scan', '--fleet', fleet, '--shard', `${i}/2`, '--format', 'json', '--output', out]);
    t.equal(r.code, 0, r.stderr);
    files.push(out);
  }
  const merged = await runCli(['scan', 'merge', ...files, '--format', 'json']);
  t.equal(merged.code, 0, merged.stderr);
  const m = JSON.parse(merged.stdout);
  t.same(fleetFindings(m), fleetFindings(whole), 'the same fleet findings');
  t.same(m.fleetRules, whole.fleetRules, 'the same rules and unknowns');
  t.same(m.clusters.map((c: any) => c.score), whole.clusters.map((c: any) => c.score), 'the same scores');
});
