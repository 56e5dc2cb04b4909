import { definePolicy } from '../../src/index.js';
import { namespace } from '../_shared/examples.js';
import { isObject } from '../isolation/namespaces.js';
import { deployment, service } from './common.js';

interface Required {
  key: string;
  allowedRegex?: string;
}

const ns = (labels?: Record<string, string>) => namespace('shop', labels);
const owner = { labels: [{ key: 'owner', allowedRegex: '^team-[a-z]+$' }], kinds: ['Namespace', 'Deployment'] };

/** Compiled once per parameter list: the same list judges every object. */
let compiled: { from: unknown; list: { key: string; re?: RegExp; source?: string }[] } | undefined;
function requiredOf(v: unknown): { key: string; re?: RegExp; source?: string }[] {
  if (compiled && compiled.from === v) return compiled.list;
  const list = (Array.isArray(v) ? v : []).filter((r): r is Required => isObject(r) && typeof r.key === 'string' && r.key !== '').map((r) => ({
    key: r.key,
    source: typeof r.allowedRegex === 'string' && r.allowedRegex ? r.allowedRegex : undefined,
    re: typeof r.allowedRegex === 'string' && r.allowedRegex ? new RegExp(r.allowedRegex) : undefined,
  }));
  compiled = { from: v, list };
  return compiled.list;
}

export default definePolicy({
  id: 'practices.required-labels',
  title: 'Objects carry the required labels',
  description:
    'Objects of the kinds in `kinds` (default: every kind; `Pod` does not cover templates here) carry every label in ' +
    '`labels` (`[{ key, allowedRegex? }]`, as the Gatekeeper library\'s K8sRequiredLabels), and where `allowedRegex` ' +
    'is given the value matches it. An empty `labels` (the default) turns the rule off. System namespaces (and the ' +
    'objects in them) are exempt.',
  area: 'practices',
  severity: 'low',
  action: 'audit',
  match: { kinds: ['*'] },
  params: { labels: [] as Required[], kinds: [] as string[] },
  validate({ object, params, report, isSystemNamespace }) {
    const required = requiredOf(params.labels);
    if (!required.length) return;
    const kinds = Array.isArray(params.kinds) ? params.kinds : [];
    if (kinds.length && !kinds.includes(object.kind ?? '')) return;
    const ns = object.kind === 'Namespace' ? object.metadata?.name : object.metadata?.namespace;
    if (isSystemNamespace(typeof ns === 'string' ? ns : undefined)) return;
    const labels = isObject(object.metadata?.labels) ? (object.metadata.labels as Record<string, unknown>) : {};
    for (const r of required) {
      const value = labels[r.key];
      if (typeof value !== 'string') report(`${object.kind} has no label "${r.key}"${r.source ? ` (value must match ${r.source})` : ''}`, labels === object.metadata?.labels ? ['metadata', 'labels'] : ['metadata']);
      else if (r.re && !r.re.test(value)) report(`label "${r.key}" is "${value}", which does not match ${r.source}`, ['metadata', 'labels', r.key]);
    }
  },
  examples: {
    pass: [
      { name: 'labelled namespace', objects: [ns({ owner: 'team-shop' })], params: owner },
      { name: 'off until labels is set', objects: [ns()] },
      { name: 'kinds not listed are not judged', objects: [service({})], params: owner },
      { name: 'any kind by default', objects: [{ ...service({}), metadata: { name: 'web', namespace: 'shop', labels: { owner: 'team-a' } } }], params: { labels: owner.labels } },
    ],
    fail: [
      { name: 'namespace without the label', objects: [ns()], params: owner },
      { name: 'value does not match', objects: [ns({ owner: 'bob' })], params: owner },
      { name: 'deployment without labels', objects: [deployment({ containers: [{ name: 'web', image: 'web:1' }] })], params: owner },
      { name: 'any kind by default', objects: [service({})], params: { labels: owner.labels } },
    ],
  },
});
