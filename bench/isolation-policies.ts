/**
 * The same N policies as plain JavaScript source, for comparing isolation mechanisms on equal terms (bench/isolation.ts):
 * `run(json)` parses one object, runs every policy on it, and returns the findings as JSON.
 */
const bodies = [
  `for (const c of cs) if (!String(c.image).startsWith('registry.example/')) out.push('registry');`,
  `for (const c of cs) if (/:latest$|^[^:]+$/.test(c.image || '')) out.push('unpinned');`,
  `if (!(o.metadata && o.metadata.labels && o.metadata.labels.app)) out.push('no app label');`,
  `for (const c of cs) if ((c.name || '').length > 63) out.push('long name');`,
  `if (spec.hostAliases) out.push('hostAliases');`,
  `for (const c of cs) if (c.securityContext && c.securityContext.readOnlyRootFilesystem === false) out.push('rw root');`,
  `if ((o.metadata.name || '').includes('_')) out.push('underscore');`,
  `for (const c of cs) for (const p of c.ports || []) if (p.hostPort) out.push('hostPort');`,
  `if (spec.dnsPolicy === 'None' && !spec.dnsConfig) out.push('dns');`,
  `for (const c of cs) if (c.imagePullPolicy === 'Never') out.push('pull never');`,
];

export function policySource(n: number): string {
  const fns = Array.from({ length: n }, (_, i) => `(o, spec, cs, out) => { ${bodies[i % bodies.length]} }`);
  return `(function () {
  const policies = [${fns.join(',\n')}];
  return function run(json) {
    const o = JSON.parse(json);
    const spec = (o.spec && o.spec.template && o.spec.template.spec) || o.spec || {};
    const cs = spec.containers || [];
    const out = [];
    for (const p of policies) p(o, spec, cs, out);
    return JSON.stringify(out);
  };
})()`;
}
