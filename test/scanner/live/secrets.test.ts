import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterReadError, readLiveCluster, type LiveReadOptions } from '../../../scanner/live/index.js';
import { closedPort, sampleObjects, SCAN_KINDS, type ClusterFaults } from '../../../testkit/api-double.js';
import { fixture, FAST_RETRY } from '../../helpers/api-fixtures.js';

/**
 * Planted credentials and secret values must never appear in anything the reader hands back: thrown error text
 * (message and stack), warnings, returned objects. Every scenario's whole output is searched for every planted value.
 */
const TOKEN = 'planted-token-7f3a9c1e5b2d4086aa11';
const SECRET_VALUE = 'planted-secret-value-c0ffee42';

const kinds = [...SCAN_KINDS, { apiVersion: 'v1', kind: 'Secret' }];
const base: Omit<LiveReadOptions, 'kubeconfig'> = { kinds, pageSize: 2, retry: FAST_RETRY, timeoutMs: 3_000 };

async function outputOf(p: Promise<unknown>): Promise<string> {
  try {
    return JSON.stringify(await p);
  } catch (err) {
    if (!(err instanceof ClusterReadError)) throw err;
    return `${err.status} ${err.message}\n${err.stack}\n${JSON.stringify(err)}`;
  }
}

function needles(extra: string[] = []): string[] {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [TOKEN, b64(TOKEN), SECRET_VALUE, b64(SECRET_VALUE), ...extra];
}

t.test('bearer token and Secret values never appear in results, warnings or errors', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const objects = sampleObjects({ namespaces: 2, secretValue: SECRET_VALUE });
  const scenarios: [string, ClusterFaults, Partial<LiveReadOptions>?][] = [
    ['clean read', {}],
    ['403 warnings from a server that echoes the Authorization header', { forbidden: ['pods', 'secrets'], echoCredentials: true }],
    ['500 forever from a server that echoes the Authorization header', { serverErrors: 1000, echoCredentials: true }],
    ['500 on discovery, echoing', { serverErrors: 1000, echoCredentials: true, faultOn: 'all' }],
    ['401', { unauthorized: true }],
    ['hang until the budget ends', { hang: true }, { timeoutMs: 200 }],
    ['resets', { resetMidBody: 1000 }],
    ['truncated JSON', { truncatedJson: 1000 }],
    ['410 forever', { goneOnContinue: 1000 }],
  ];
  let i = 0;
  for (const [name, faults, extra] of scenarios) {
    const kc = fx.cluster(`s${i++}`, { objects, token: TOKEN, faults });
    const out = await outputOf(readLiveCluster({ ...base, ...extra, kubeconfig: kc }));
    for (const n of needles()) t.notOk(out.includes(n), `${name}: output does not contain a planted value`);
    if (faults.echoCredentials) t.ok(fx.api.cluster(`s${i - 1}`).requests.length > 0);
  }
  // the echoing server really did put the token into its messages (so the scrubbing above was exercised)
  const kc = fx.cluster('echo', { objects, token: TOKEN, faults: { serverErrors: 1000, echoCredentials: true } });
  const out = await outputOf(readLiveCluster({ ...base, kubeconfig: kc }));
  t.match(out, /request had Authorization: Bearer \[redacted\]/);
});

t.test('client certificate key never appears, on success or failure', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const key = fx.api.clientCert.key;
  const keyLines = key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
  const keyNeedles = [key, Buffer.from(key).toString('base64'), ...keyLines];
  const objects = sampleObjects({ namespaces: 1, secretValue: SECRET_VALUE });

  const ok = fx.cluster('cert-ok', { objects, auth: 'client-cert' }, { clientCert: true });
  const good = await readLiveCluster({ ...base, kubeconfig: ok });
  t.ok(good.objects.length > 0, 'authenticated by the client certificate');

  const port = await closedPort();
  const outs = [
    JSON.stringify(good),
    await outputOf(readLiveCluster({ ...base, kubeconfig: fx.cluster('cert-500', { objects, auth: 'client-cert', faults: { serverErrors: 1000 } }, { clientCert: true }) })),
    await outputOf(readLiveCluster({ ...base, kubeconfig: fx.cluster('cert-tls', { objects, auth: 'client-cert' }, { clientCert: true, omitCa: true }) })),
    await outputOf(readLiveCluster({ ...base, kubeconfig: fx.cluster('cert-refused', {}, { clientCert: true, server: `https://127.0.0.1:${port}` }) })),
    // a token-only cluster refuses the certificate: 401
    await outputOf(readLiveCluster({ ...base, kubeconfig: fx.cluster('cert-401', { objects }, { clientCert: true }) })),
  ];
  for (const out of outs) for (const n of [...keyNeedles, ...needles()]) t.notOk(out.includes(n), 'no key material, no secret value');
  t.match(outs[4], /unauthorized/);
});

t.test('a broken kubeconfig holding a token: the error names the file, not its content', async (t) => {
  const fx = await fixture();
  t.teardown(fx.close);
  const file = join(fx.dir, 'broken.kubeconfig');
  writeFileSync(file, `apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: ${TOKEN}\n   bad: [indent\n`);
  const out = await outputOf(readLiveCluster({ ...base, kubeconfig: file }));
  t.match(out, /^error kubeconfig .*broken\.kubeconfig could not be loaded/);
  for (const n of needles()) t.notOk(out.includes(n));
});
