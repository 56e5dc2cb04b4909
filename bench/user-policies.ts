import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * N typical user policies (one file each) for the benches: pod-template checks of the kind a platform team writes
 * (image registry, pinned tags, labels, probes). The bench Deployment passes them all, as most reviews do.
 */
const checks = [
  `for (const c of pod.containers()) if (!c.spec.image?.startsWith('registry.example/')) report('image from an unknown registry', c.path('image'));`,
  `for (const c of pod.containers()) if (/:latest$|^[^:]+$/.test(c.spec.image ?? '')) report('unpinned image', c.path('image'));`,
  `if (!object.metadata?.labels?.app) report('no app label', 'metadata.labels');`,
  `for (const c of pod.containers()) if ((c.spec.name ?? '').length > 63) report('container name too long', c.path('name'));`,
  `if (pod.get('hostAliases')) report('hostAliases are not allowed', pod.path('hostAliases'));`,
  `for (const c of pod.containers()) if (c.get('securityContext.readOnlyRootFilesystem') === false) report('writable root fs', c.path('securityContext'));`,
  `if ((object.metadata?.name ?? '').includes('_')) report('underscore in name', 'metadata.name');`,
  `for (const c of pod.containers()) for (const p of c.spec.ports ?? []) if (p.hostPort) report('hostPort', c.path('ports'));`,
  `if (pod.get('dnsPolicy') === 'None' && !pod.get('dnsConfig')) report('dnsPolicy None without dnsConfig', pod.path('dnsPolicy'));`,
  `for (const c of pod.containers()) if (c.spec.imagePullPolicy === 'Never') report('imagePullPolicy Never', c.path('imagePullPolicy'));`,
];

export async function writeUserPolicies(dir: string, n: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    await writeFile(
      join(dir, `p${i}.ts`),
      `import { definePolicy } from 'fleetgate';
export default definePolicy({
  id: 'bench.user-${i}', title: 'user policy ${i}', area: 'bench', severity: 'medium', action: 'deny',
  match: { kinds: ['Pod'] },
  validate({ object, pod, report }) {
    ${checks[i % checks.length]}
  },
  examples: { pass: [{}], fail: [{}] },
});
`,
    );
  }
  return dir;
}
