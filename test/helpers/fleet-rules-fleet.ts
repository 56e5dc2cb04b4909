// The federated fleet the fleet-rule tests judge (test/scanner/fleet-rules*.test.ts): real files, a spawned scan.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export async function put(root: string, file: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, file)), { recursive: true });
  await writeFile(join(root, file), text);
}

export const HOST = 'ledger.payments.svc.cluster.global';
export const serviceEntry = (endpoints: string[]) => `apiVersion: networking.istio.io/v1beta1
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
export const ns = (labels = '{}') => `apiVersion: v1\nkind: Namespace\nmetadata: { name: payments, labels: ${labels} }\n`;
export const svc = 'apiVersion: v1\nkind: Service\nmetadata: { name: ledger, namespace: payments }\nspec: { ports: [{ port: 8443 }] }\n';

/** par01 imports the ledger from fra01 (runs it), ams01 (does not) and tyo01 (cannot be read). */
export async function makeFleet(root: string): Promise<string> {
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

export function fleetFindings(report: any): string[] {
  return report.clusters.flatMap((c: any) => c.findings.filter((f: any) => f.cluster).map((f: any) => `${f.cluster} ${f.policy} ${f.path}: ${f.message}`)).sort();
}
