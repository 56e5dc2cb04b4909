// A short seeded fuzz run (the long run is bench/webhook-fuzz/run.ts): every input gets 200 (a verdict), 400 or 413,
// the process stays up, and no log line ever holds a planted Secret value or bearer token.
import t from 'tap';
import { PLANTED, fuzzInput, judge } from '../../bench/webhook-fuzz/mutate.js';
import { sendRaw } from '../../bench/webhook-fuzz/client.js';
import { builtinPolicies, compliantDeployment, review, startServer, testEgressPolicy, testPolicy } from '../helpers/webhook.js';

const SEED = Number(process.env.FLEETGATE_FUZZ_SEED ?? 20240611);
const INJECT_INPUTS = Number(process.env.FLEETGATE_FUZZ_INPUTS ?? 1500);
const SOCKET_INPUTS = 200;

// Policies that look at Secrets and at everything, including one that throws on odd input.
const secretsPolicy = testPolicy('test.secret-has-type', 'deny', ['Secret'], ({ object, report }) => {
  if (object.type !== 'Opaque') report('Secrets must set type: Opaque', 'type');
  if (object.data && typeof object.data === 'object') for (const k of Object.keys(object.data)) if (k.length > 200) report(`key too long`, ['data', k]);
});
const fragile = testPolicy('test.fragile', 'warn', ['Pod', 'Deployment', 'Secret', 'ConfigMap'], ({ object }) => {
  (object.metadata.labels as Record<string, string>).app.toUpperCase();
});
const policies = [...builtinPolicies, testEgressPolicy, secretsPolicy, fragile];

t.test(`fuzz: ${INJECT_INPUTS} mutated reviews through inject(), ${SOCKET_INPUTS} over HTTPS (seed ${SEED})`, async (t) => {
  const s = await startServer({ policies, labels: { region: 'europe' }, config: { timeoutMs: 400 } });
  t.teardown(() => s.close());
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  for (let i = 0; i < INJECT_INPUTS; i++) {
    const input = fuzzInput(SEED, i);
    const res = await s.server.app.inject({
      method: 'POST',
      url: '/validate',
      payload: input.body,
      headers: { 'content-type': input.contentType ?? 'application/json', authorization: `Bearer ${PLANTED.bearer}` },
    });
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    const problem = judge(input, res.statusCode, res.body);
    if (problem) failures.push(`#${i} ${input.label}: ${problem}`);
  }
  for (let i = 0; i < SOCKET_INPUTS; i++) {
    const input = fuzzInput(SEED + 1, i, { transport: true });
    try {
      const res = await sendRaw(s.port, s.certs.cert, input, 5_000, { Authorization: `Bearer ${PLANTED.bearer}` });
      // A body cut short by the client may leave nothing to answer to; anything else must be answered.
      if (res.status === 0 && input.transport === 'truncate-close') continue;
      const problem = judge(input, res.status, res.text);
      if (problem) failures.push(`socket #${i} ${input.label}: ${problem}`);
      if (input.transport === 'slow-body' || input.transport === 'lying-length') t.equal(res.status, 400, `${input.label} → 400`);
    } catch (err) {
      failures.push(`socket #${i} ${input.label}: ${(err as Error).message}`);
    }
  }
  t.same(failures.slice(0, 20), [], 'every input got 200, 400 or 413');
  t.ok((statuses.get(200) ?? 0) > INJECT_INPUTS / 4 && (statuses.get(400) ?? 0) > 0 && (statuses.get(413) ?? 0) > 0, `a mix of answers: ${JSON.stringify([...statuses])}`);
  // Still alive and still judging.
  const after = await s.post(review(compliantDeployment()));
  t.equal(after.json.response.allowed, true, 'the server still answers after the run');
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted');
  t.equal((Object.prototype as Record<string, unknown>).allowed, undefined);

  const planted = [PLANTED.data, PLANTED.dataDecoded, PLANTED.stringData, PLANTED.bearer];
  t.ok(s.logs.length > 50, `the run logged (${s.logs.length} lines)`);
  const leaks = s.logs.filter((l) => planted.some((p) => l.includes(p)));
  t.same(leaks.slice(0, 3), [], 'no log line holds a planted Secret value or bearer token');
});

t.test('Secret data and bearer headers never reach the logs, at every log level', async (t) => {
  const s = await startServer({ policies: [secretsPolicy, fragile, testPolicy('test.warn-secret', 'warn', ['Secret'], ({ report }) => report('check this Secret'))] });
  t.teardown(() => s.close());
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, type: 'kubernetes.io/tls', data: { password: PLANTED.data }, stringData: { token: PLANTED.stringData } };
  const r = await s.post(review(secret), { headers: { authorization: `Bearer ${PLANTED.bearer}` } });
  t.equal(r.json.response.allowed, false);
  await s.post(JSON.stringify(review(secret)).slice(0, 120), { raw: true, headers: { authorization: `Bearer ${PLANTED.bearer}` } });
  await s.post(JSON.stringify(review(secret)), { raw: true, contentType: 'text/plain' });
  t.ok(s.logs.some((l) => l.includes('"uid"')), 'the denial was logged');
  for (const p of [PLANTED.data, PLANTED.dataDecoded, PLANTED.stringData, PLANTED.bearer])
    t.notOk(s.logs.some((l) => l.includes(p)), `no log line holds ${p}`);
  t.notOk(r.text.includes(PLANTED.data) || r.text.includes(PLANTED.stringData), 'nor does the answer');
});
