// OpenTelemetry for fleet scans (issue #16): `fleetgate scan` with an OTLP endpoint sends a trace per run, a span
// per cluster (status, score, counts) under the scan's span, to a local OTLP/HTTP receiver.
import t from 'tap';
import { runCli } from '../helpers/cli.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';

t.test('a span per scanned cluster under one scan span', async (t) => {
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  const r = await runCli(['scan', '--fleet', 'examples/fleet/fleet.yaml', '--format', 'json', '--otlp-endpoint', receiver.url]);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const [root] = await receiver.waitFor((s) => s.name === 'fleet scan');
  t.equal(root.service, 'fleetgate-scan');
  t.equal(root.attributes['fleetgate.clusters'], report.clusters.length);
  const clusters = receiver.spans.filter((s) => s.parentSpanId === root.spanId);
  t.same(clusters.map((s) => s.attributes['fleetgate.cluster']).sort(), report.clusters.map((c: { name: string }) => c.name).sort(), 'every cluster');
  for (const c of report.clusters) {
    const span = clusters.find((s) => s.attributes['fleetgate.cluster'] === c.name)!;
    t.equal(span.traceId, root.traceId);
    t.equal(span.attributes['fleetgate.cluster.status'], c.status, `${c.name} status`);
    // The cluster span covers reading and judging the cluster; fleet-scope rules add their findings after every cluster.
    t.equal(span.attributes['fleetgate.cluster.findings'], c.findings.filter((f: { cluster?: string }) => !f.cluster).length, `${c.name} findings`);
    if (c.status === 'ok') t.equal(span.status.code, 1);
    else t.equal(span.status.code, 2, `${c.name}: an unreachable cluster is an error span`);
    t.ok(span.start >= root.start && span.end <= root.end, `${c.name} inside the scan span`);
  }
  t.ok(report.clusters.some((c: { status: string }) => c.status !== 'ok'), 'the example has an unreachable cluster');
});

t.test('no endpoint, no export; a bad one is a usage error', async (t) => {
  const bad = await runCli(['scan', '--fleet', 'examples/fleet/fleet.yaml', '--format', 'json', '--otlp-endpoint', 'collector:4318']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--otlp-endpoint: the OTLP endpoint must be an http\(s\) URL/);
});
