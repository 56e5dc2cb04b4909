/** How clients reach the API double: its certificates, and kubeconfig files that point at its clusters. */
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { generate } from 'selfsigned';

export interface KubeconfigOptions {
  /** Override the token written for every cluster (e.g. a wrong one). */
  token?: string;
  /** Write the double's client certificate and key as the user's credentials (for `auth: 'client-cert'` clusters). */
  clientCert?: boolean;
  /** Leave the certificate-authority out (the server's certificate is then untrusted). */
  omitCa?: boolean;
  /** Point every cluster at this server URL instead (e.g. a closed port). */
  server?: string;
}

let certCache: Promise<{ cert: string; key: string; clientCert: string; clientKey: string }> | undefined;

/** The double's server certificate (its own CA) and a client certificate it signed; made once per process. */
export function certificates() {
  certCache ??= generate([{ name: 'commonName', value: 'fleetgate-api-double' }], {
    algorithm: 'sha256',
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
    clientCertificate: { cn: 'fleetgate-scanner', algorithm: 'sha256' },
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  }).then((r) => ({ cert: r.cert, key: r.private, clientCert: r.clientcert!, clientKey: r.clientprivate! }));
  return certCache;
}

export type Certificates = Awaited<ReturnType<typeof certificates>>;

/** Writes a kubeconfig with one context (named like the cluster), cluster and user per name; returns the path. */
export function writeKubeconfig(
  file: string,
  names: string[],
  opts: KubeconfigOptions,
  double: { certs: Certificates; serverUrl(name: string): string; tokenOf(name: string): string },
): string {
  const { certs, serverUrl } = double;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': names[0] ?? '',
    clusters: names.map((n) => ({
      name: n,
      cluster: { server: opts.server ?? serverUrl(n), ...(opts.omitCa ? {} : { 'certificate-authority-data': b64(certs.cert) }) },
    })),
    users: names.map((n) => ({
      name: `${n}-user`,
      user: opts.clientCert
        ? { 'client-certificate-data': b64(certs.clientCert), 'client-key-data': b64(certs.clientKey) }
        : { token: opts.token ?? double.tokenOf(n) },
    })),
    contexts: names.map((n) => ({ name: n, context: { cluster: n, user: `${n}-user` } })),
  };
  writeFileSync(file, stringify(doc), { mode: 0o600 });
  return file;
}
