import * as http from 'node:http';
import * as https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { ClusterReadError } from './errors.js';
import type { Connection } from './http.js';
import type { Scrubber } from './redact.js';

/**
 * Turns a kubeconfig (file + optional context) into a {@link Connection}: client-node's KubeConfig derives TLS
 * material and credentials, we build our own keep-alive agent from them. Every credential met is handed to the
 * scrubber so that no message can carry it.
 */

export interface KubeconfigTarget {
  /** Path of the kubeconfig file (`~` already expanded by the caller). */
  kubeconfig: string;
  /** Context to use; the kubeconfig's current context when absent. */
  context?: string;
}

export async function connect(target: KubeconfigTarget, scrubber: Scrubber): Promise<Connection> {
  const { kubeconfig, context } = target;
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(kubeconfig);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { mark?: { line?: number } };
    if (e.code === 'ENOENT') throw new ClusterReadError(`kubeconfig ${kubeconfig} not found`, 'error');
    // YAML errors quote the offending text, which may be a credential: keep only where it is.
    const where = e.mark?.line != null ? ` (line ${e.mark.line + 1})` : '';
    throw new ClusterReadError(`kubeconfig ${kubeconfig} could not be loaded${where}`, 'error');
  }
  if (context) {
    if (!kc.getContextObject(context)) throw new ClusterReadError(`context "${context}" is not in kubeconfig ${kubeconfig}`, 'error');
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ClusterReadError(`kubeconfig ${kubeconfig} has no cluster for context "${context ?? kc.getCurrentContext()}"`, 'error');
  const user = kc.getCurrentUser();
  scrubber.add(user?.token);
  scrubber.add(user?.password);
  scrubber.add(user?.keyData);
  scrubber.add(user?.certData);

  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw new ClusterReadError(`the kubeconfig's server address is not a URL`, 'error');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ClusterReadError(`unsupported server protocol ${url.protocol}`, 'error');

  const o: https.RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(o);
  } catch (err) {
    // auth plugins (exec, oidc) failed; their messages can carry command output, so only name the failure
    const name = err instanceof Error ? err.name : 'Error';
    throw new ClusterReadError(`could not obtain credentials from the kubeconfig's user (${name})`, 'error');
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (typeof v === 'string' || Array.isArray(v)) headers[k] = v;
    else if (typeof v === 'number') headers[k] = String(v);
  }
  for (const v of Object.values(headers)) for (const s of [v].flat()) scrubber.add(s.replace(/^(Bearer|Basic)\s+/i, ''));
  scrubber.add(o.key as Buffer | string | undefined);

  // Our own keep-alive agent with the same TLS material (client-node's agent does not keep connections alive);
  // a proxy agent from client-node is used as it is.
  let agent: http.Agent;
  if (cluster.proxyUrl) agent = o.agent as http.Agent;
  else if (url.protocol === 'https:') {
    agent = new https.Agent({
      keepAlive: true,
      maxSockets: 8,
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      pfx: o.pfx,
      passphrase: o.passphrase,
      servername: o.servername,
      ...(o.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.rejectUnauthorized } : {}),
    });
  } else {
    if (!cluster.skipTLSVerify) throw new ClusterReadError('plain http is refused unless the kubeconfig sets insecure-skip-tls-verify', 'error');
    agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  }
  return {
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
    prefix: url.pathname.replace(/\/+$/, ''),
    headers,
    auth: o.auth ?? undefined,
    agent,
  };
}
