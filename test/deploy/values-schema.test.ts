// charts/fleetgate: values.yaml and every override in ci/ validate against values.schema.json, as `helm lint` and
// `helm install` would check them (Helm validates the merged values); invalid overrides are refused with a path.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse } from 'yaml';

const chart = join(import.meta.dirname, '..', '..', 'charts', 'fleetgate');
const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8'));
const defaults = parse(readFileSync(join(chart, 'values.yaml'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

type Values = Record<string, unknown>;
const isMap = (v: unknown): v is Values => !!v && typeof v === 'object' && !Array.isArray(v);

/** Helm's coalescing: maps merge key by key, anything else (lists too) replaces, null removes the key. */
function merge(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = merge(out[k] as Values, v);
    else out[k] = v;
  }
  return out;
}

const errorsOf = (values: Values): ErrorObject[] => (validate(values) ? [] : [...(validate.errors ?? [])]);
const show = (errs: ErrorObject[]) => errs.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');

t.test('values.yaml is valid as it is', async (t) => {
  t.same(show(errorsOf(defaults)), '', 'no schema errors');
});

t.test('values.yaml documents the defaults install.yaml is rendered from', async (t) => {
  t.equal(defaults.webhook.replicas, 3);
  t.equal(defaults.webhook.failurePolicy, 'Fail');
  t.equal(defaults.tls.mode, 'certManager');
  t.equal(defaults.scan.enabled, false, 'the scan runs in the management cluster only, by choice');
  t.ok(defaults.webhook.timeoutMs < defaults.webhook.timeoutSeconds * 1000, 'the webhook answers before the API server gives up');
});

const ciFiles = readdirSync(join(chart, 'ci')).filter((f) => f.endsWith('.yaml'));
t.ok(ciFiles.length >= 3, 'at least three override files in ci/');
for (const file of ciFiles) {
  t.test(`ci/${file} merged over values.yaml is valid`, async (t) => {
    const over = parse(readFileSync(join(chart, 'ci', file), 'utf8'));
    t.same(show(errorsOf(merge(defaults, over))), '');
  });
}

const invalid: { name: string; over: Values; path: string; message?: RegExp }[] = [
  { name: 'replicas as a word', over: { webhook: { replicas: 'three' } }, path: '/webhook/replicas', message: /integer/ },
  { name: 'an unknown failurePolicy', over: { webhook: { failurePolicy: 'Maybe' } }, path: '/webhook/failurePolicy', message: /allowed values/ },
  { name: 'timeoutSeconds above the API server maximum', over: { webhook: { timeoutSeconds: 45 } }, path: '/webhook/timeoutSeconds' },
  { name: 'a misspelt key', over: { webhook: { replica: 3 } }, path: '/webhook', message: /additional properties/ },
  { name: 'a numeric cluster label', over: { clusterLabels: { cohort: 2 } }, path: '/clusterLabels/cohort', message: /string/ },
  { name: 'an unknown action', over: { actions: { 'pss.restricted.*': 'block' } }, path: '/actions/pss.restricted.*' },
  { name: 'a TLS mode nobody implements', over: { tls: { mode: 'letsencrypt' } }, path: '/tls/mode' },
  { name: 'tls.mode=secret without the secret', over: { tls: { mode: 'secret' } }, path: '/tls/secret/name' },
  { name: 'scan enabled without a repo', over: { scan: { enabled: true } }, path: '/scan/configRepo/gitSync/repo' },
  { name: 'zero shards', over: { scan: { shards: 0 } }, path: '/scan/shards' },
  { name: 'a history retention that is not a duration', over: { scan: { history: { keep: '3 months' } } }, path: '/scan/history/keep' },
  { name: 'a bad schedule', over: { scan: { schedule: 'nightly' } }, path: '/scan/schedule' },
  { name: 'an image policy source without an image', over: { policies: { source: 'image' } }, path: '/policies/image' },
  { name: 'a semi-space of 0 MB', over: { watch: { maxSemiSpaceSizeMb: 0 } }, path: '/watch/maxSemiSpaceSizeMb', message: />= 1/ },
  { name: 'a semi-space as a quantity', over: { watch: { maxSemiSpaceSizeMb: '32Mi' } }, path: '/watch/maxSemiSpaceSizeMb', message: /integer/ },
  { name: 'a resource without limits', over: { webhook: { resources: { requests: { cpu: '1', memory: '1Gi' }, limits: null } } }, path: '/webhook/resources' },
];
for (const c of invalid) {
  t.test(`rejects ${c.name}`, async (t) => {
    const errs = errorsOf(merge(defaults, c.over));
    t.ok(errs.length > 0, 'invalid');
    const hit = errs.find((e) => e.instancePath === c.path || e.instancePath.startsWith(c.path + '/'));
    t.ok(hit, `an error at ${c.path} (got: ${show(errs)})`);
    if (hit && c.message) t.match(hit.message ?? '', c.message);
  });
}
