// OpenTelemetry (issue #16): a span per admission review with its decision and a child span per policy, exported over
// OTLP/HTTP (JSON) to a local receiver; the binary takes --otlp-endpoint or the standard OTEL_* variables; off by default.
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tracer, otlpTracesUrl } from '../../webhook/otlp.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { startServeProcess } from '../helpers/serve-process.js';
import { compliantDeployment, hostPidPod, makeCerts, review, startServer } from '../helpers/webhook.js';

t.test('a review is a server span with its decision; each policy that judged it a child span', async (t) => {
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  const tracer = new Tracer({ url: `${receiver.url}/v1/traces`, serviceName: 'fleetgate-test', flushMs: 20 });
  const s = await startServer({ tracer });
  t.teardown(() => s.close());
  await s.post(review(hostPidPod('p'), { uid: 'traced-1' }));
  await s.post(review(compliantDeployment('d'), { uid: 'traced-2' }));
  const [denied] = await receiver.waitFor((x) => x.attributes['fleetgate.admission.uid'] === 'traced-1');
  t.equal(denied.name, 'admission review');
  t.equal(denied.kind, 2, 'SERVER');
  t.equal(denied.service, 'fleetgate-test');
  t.match(denied.attributes, { 'fleetgate.admission.decision': 'denied', 'fleetgate.admission.operation': 'CREATE', 'fleetgate.admission.kind': 'Pod', 'k8s.namespace.name': 'shop' });
  t.match(denied.traceId, /^[0-9a-f]{32}$/);
  t.match(denied.spanId, /^[0-9a-f]{16}$/);
  const children = await receiver.waitFor((x) => x.parentSpanId === denied.spanId, 2);
  t.ok(children.every((c) => c.traceId === denied.traceId && c.kind === 1), 'children in the same trace, INTERNAL');
  t.ok(children.every((c) => c.start >= denied.start && c.end <= denied.end), 'children inside the review span');
  const hostNs = children.find((c) => c.attributes['fleetgate.policy'] === 'isolation.no-host-namespaces');
  t.equal(hostNs?.name, 'policy isolation.no-host-namespaces');
  t.equal(hostNs?.attributes['fleetgate.policy.result'], 'fail');
  t.ok(children.some((c) => c.attributes['fleetgate.policy.result'] === 'pass'), 'passing policies have spans too');
  const [allowed] = await receiver.waitFor((x) => x.attributes['fleetgate.admission.uid'] === 'traced-2');
  t.equal(allowed.attributes['fleetgate.admission.decision'], 'allowed');
  t.not(allowed.traceId, denied.traceId, 'one trace per review');
});

t.test('the endpoint: --otlp-endpoint, else OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces', async (t) => {
  t.equal(otlpTracesUrl(undefined, {}), undefined, 'off by default');
  t.equal(otlpTracesUrl('http://c:4318', {}), 'http://c:4318/v1/traces');
  t.equal(otlpTracesUrl('http://c:4318/v1/traces', {}), 'http://c:4318/v1/traces');
  t.equal(otlpTracesUrl(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }), 'http://c:4318/v1/traces');
  t.equal(otlpTracesUrl(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:9999/custom', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' }), 'http://c:9999/custom');
  t.equal(otlpTracesUrl('http://flag:4318', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://env' }), 'http://flag:4318/v1/traces', 'the flag wins');
  t.throws(() => otlpTracesUrl('collector:4318', {}), /must be an http\(s\) URL/);
});

t.test('fleetgate serve exports traces with OTEL_EXPORTER_OTLP_ENDPOINT, user policies in a sandbox span', async (t) => {
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  const certs = await makeCerts(t);
  const policyFile = join(certs.dir, 'user.ts');
  await writeFile(
    policyFile,
    `import { definePolicy } from 'fleetgate';
export default definePolicy({
  id: 'acme.configmap-name', title: 'ConfigMaps are not named bad', area: 'acme', severity: 'low', action: 'deny',
  match: { kinds: ['ConfigMap'] },
  validate({ object, report }) { if (object.metadata?.name === 'bad') report('bad name'); },
  examples: { pass: [{}], fail: [{}] },
});
`,
  );
  const serve = await startServeProcess(certs, ['--policies', policyFile], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'fleetgate-par01' });
  t.teardown(() => serve.stop());
  t.match(serve.out(), /exporting traces over OTLP\/HTTP/);
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bad', namespace: 'shop' } };
  const r = await serve.post(review(cm, { uid: 'cm-bad' }));
  t.equal(JSON.parse(r.text).response.allowed, false);
  const [span] = await receiver.waitFor((x) => x.attributes['fleetgate.admission.uid'] === 'cm-bad');
  t.equal(span.service, 'fleetgate-par01');
  t.equal(span.attributes['fleetgate.admission.decision'], 'denied');
  const [worker] = await receiver.waitFor((x) => x.parentSpanId === span.spanId && x.name === 'user policies (sandbox)');
  t.equal(worker.attributes['fleetgate.policies'], 'acme.configmap-name');
  t.equal(worker.attributes['fleetgate.policy.result'], 'fail');
  t.equal(await serve.stop(), 0);
});

t.test('without an endpoint nothing is exported', async (t) => {
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  const certs = await makeCerts(t);
  const serve = await startServeProcess(certs, [], { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' });
  t.teardown(() => serve.stop());
  t.notMatch(serve.out(), /exporting traces/);
  await serve.post(review(hostPidPod()));
  t.equal(await serve.stop(), 0);
  t.equal(receiver.requests, 0);
});
