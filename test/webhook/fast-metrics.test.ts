import t from 'tap';
import { Counter, Registry } from 'prom-client';
import { FastHistogram, PendingCounts } from '../../webhook/fast-metrics.js';

t.test('FastHistogram exposes cumulative buckets, sum and count per label, like prom-client', async (t) => {
  const registry = new Registry();
  const h = new FastHistogram({ name: 'test_duration_seconds', help: 'help text', labelName: 'operation', buckets: [0.01, 0.001], registers: [registry] });
  for (const v of [0.0005, 0.002, 0.002, 5]) h.observe('CREATE', v);
  h.observe('DELETE', 0.0001);
  h.observe('CREATE', NaN); // ignored, as a non-finite duration can only be a clock glitch
  const text = await registry.metrics();
  t.match(text, /# HELP test_duration_seconds help text\n# TYPE test_duration_seconds histogram/);
  const line = (s: string) => t.ok(text.split('\n').includes(s), s);
  line('test_duration_seconds_bucket{le="0.001",operation="CREATE"} 1');
  line('test_duration_seconds_bucket{le="0.01",operation="CREATE"} 3');
  line('test_duration_seconds_bucket{le="+Inf",operation="CREATE"} 4');
  line('test_duration_seconds_sum{operation="CREATE"} 5.0045');
  line('test_duration_seconds_count{operation="CREATE"} 4');
  line('test_duration_seconds_bucket{le="0.001",operation="DELETE"} 1');
  line('test_duration_seconds_count{operation="DELETE"} 1');
  h.reset();
  t.notMatch(await registry.metrics(), /operation="CREATE"/, 'reset clears every series');
});

t.test('PendingCounts add to the counter once per scrape, never twice', async (t) => {
  const registry = new Registry();
  const pending = new PendingCounts(['policy', 'decision', 'operation', 'kind']);
  const counter = new Counter({
    name: 'test_requests_total',
    help: 'h',
    labelNames: ['policy', 'decision', 'operation', 'kind'],
    registers: [registry],
    collect() {
      pending.flushInto(this);
    },
  });
  const value = async (decision: string) =>
    (await counter.get()).values.find((v) => v.labels.decision === decision && v.labels.kind === 'Pod')?.value ?? 0;
  for (let i = 0; i < 3; i++) pending.add('', 'allowed', 'CREATE', 'Pod');
  pending.add('', 'denied', 'CREATE', 'Pod');
  t.equal(await value('allowed'), 3);
  t.equal(await value('denied'), 1);
  t.equal(await value('allowed'), 3, 'a second scrape adds nothing new');
  pending.add('', 'allowed', 'CREATE', 'Pod');
  t.match(await registry.metrics(), /test_requests_total\{policy="",decision="allowed",operation="CREATE",kind="Pod"\} 4/);
});

t.test('two-label FastHistogram series and three-label PendingCounts keep each label set apart (no key collisions)', async (t) => {
  const registry = new Registry();
  const h = new FastHistogram({ name: 'test_two_seconds', help: 'h', labelName: ['operation', 'decision'], buckets: [1], registers: [registry] });
  h.observe('CREATE', 'allowed', 0.5);
  h.observe('CREATE', 'denied', 0.5);
  h.observe('CREATE', 'allowed', 2);
  h.observe('UPDATE', 'allowed', 0.5);
  t.equal(h.series('CREATE', 'allowed'), h.series('CREATE', 'allowed'), 'one series per label set');
  const text = await registry.metrics();
  const counts = text.split('\n').filter((l) => l.startsWith('test_two_seconds_count'));
  t.same(counts, [
    'test_two_seconds_count{operation="CREATE",decision="allowed"} 2',
    'test_two_seconds_count{operation="CREATE",decision="denied"} 1',
    'test_two_seconds_count{operation="UPDATE",decision="allowed"} 1',
  ], 'in the order the series were made');
  const pending = new PendingCounts(['operation', 'kind', 'decision']);
  const counter = new Counter({ name: 'test_three_total', help: 'h', labelNames: ['operation', 'kind', 'decision'], registers: [registry], collect() { pending.flushInto(this); } });
  pending.add('CREATE', 'Pod', 'allowed');
  pending.add('CREATE', 'Pod', 'allowed');
  pending.add('CREATE', 'Pod\u0000allowed', ''); // a value that would collide with a joined key
  pending.add('DELETE', 'Pod', 'allowed');
  const values = (await counter.get()).values.map((v) => `${v.labels.operation}|${v.labels.kind}|${v.labels.decision}=${v.value}`).sort();
  t.same(values, ['CREATE|Pod\u0000allowed|=1', 'CREATE|Pod|allowed=2', 'DELETE|Pod|allowed=1']);
});
