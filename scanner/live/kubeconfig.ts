import * as http from 'node:http';
import * as https from 'node:https';
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
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
  /**
   * Credential plugins the operator allows to run: `exec` commands exactly as the kubeconfig writes them
   * (`aws`, `/usr/local/bin/gke-gcloud-auth-plugin`), and `auth-provider:NAME` for an auth-provider. Empty or
   * absent: no kubeconfig runs anything (see {@link checkCredentialPlugins}).
   */
  allowExecPlugins?: readonly string[];
}

/** Environment an allowed plugin must not be given by the kubeconfig: these change what code the plugin runs. */
const DANGEROUS_ENV = /^(?:LD_.*|DYLD_.*|PATH|NODE_OPTIONS|NODE_PATH|BASH_ENV|ENV|PYTHONPATH|PYTHONSTARTUP|PYTHONHOME|PERL5OPT|PERL5LIB|RUBYOPT|RUBYLIB|GCONV_PATH|IFS)$/i;
/** client-node runs an auth-provider's `cmd-path` and `cmd-args` through a shell. */
const SHELL_META = /[;&|`$<>(){}[\]*?!~#\n\r\\'"]/;

/**
 * A kubeconfig's user can make the reader run a program (an `exec` credential plugin, or the `cmd-path` of the
 * azure/gcp auth-providers) as the scanner's own user, in the pod that holds credentials for every cluster. A
 * kubeconfig in a config repo is written by whoever can write to the repo, so nothing runs unless the operator
 * allowed that command. Throws the reason when the user's plugin is not allowed.
 */
export function checkCredentialPlugins(user: { name?: string; exec?: unknown; authProvider?: unknown } | null | undefined, allow: readonly string[] | undefined, kubeconfig: string): void {
  if (!user) return;
  const allowed = new Set(allow ?? []);
  const hint = (cmd: string) => `allow it with "scan --allow-exec-plugin ${cmd}" or allowExecPlugins in the fleet file if you trust it`;
  const who = `kubeconfig ${kubeconfig}: user "${user.name ?? ''}"`;
  const exec = user.exec as { command?: unknown; env?: unknown } | undefined;
  if (exec) {
    const command = typeof exec.command === 'string' ? exec.command : '';
    if (!command || !allowed.has(command)) {
      throw new ClusterReadError(`${who} has an exec credential plugin (command "${command}") that is not on the allowlist, so it was not run; ${hint(command || 'CMD')}`, 'error');
    }
    const env = Array.isArray(exec.env) ? (exec.env as { name?: unknown }[]) : [];
    const bad = env.map((e) => (typeof e?.name === 'string' ? e.name : '')).find((n) => DANGEROUS_ENV.test(n));
    if (bad !== undefined) throw new ClusterReadError(`${who}: the exec credential plugin "${command}" would be given ${bad}, which changes what it runs; refused`, 'error');
  }
  const provider = user.authProvider as { name?: unknown; config?: Record<string, unknown> } | undefined;
  if (provider) {
    const name = typeof provider.name === 'string' ? provider.name : '';
    if (!allowed.has(`auth-provider:${name}`)) {
      throw new ClusterReadError(`${who} uses the auth-provider "${name}", which is not on the allowlist, so it was not used; ${hint(`auth-provider:${name}`)}`, 'error');
    }
    const cmd = provider.config?.['cmd-path'];
    if (cmd !== undefined) {
      if (typeof cmd !== 'string' || !allowed.has(cmd)) {
        throw new ClusterReadError(`${who}: the auth-provider "${name}" runs the command "${String(cmd)}", which is not on the allowlist, so it was not run; ${hint(String(cmd))}`, 'error');
      }
      const args = provider.config?.['cmd-args'];
      if (args !== undefined && (typeof args !== 'string' || SHELL_META.test(args))) {
        throw new ClusterReadError(`${who}: the auth-provider "${name}" has cmd-args with shell syntax (they are run through a shell); refused`, 'error');
      }
    }
  }
}

/**
 * A kubeconfig user's `token-file` is read by client-node and sent as the bearer token to the kubeconfig's server.
 * A kubeconfig from the config repo picks both, so it could send any file the scan pod can read (the operator's own
 * kubeconfig, a git token) to a server of its writer's choosing. Like plugins, a token file is used only when the
 * operator allowed that path (`token-file:PATH` on the same allowlist). Checked on the raw file, before client-node
 * reads any token file.
 */
export function checkTokenFile(text: string, context: string | undefined, allow: readonly string[] | undefined, kubeconfig: string): void {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch {
    return; // client-node reports the broken file, with its line
  }
  const doc = (raw ?? {}) as { 'current-context'?: unknown; contexts?: unknown; users?: unknown };
  const named = (list: unknown, name: unknown) => (Array.isArray(list) ? list.find((e) => e && typeof e === 'object' && e.name === name) : undefined);
  const ctx = named(doc.contexts, context ?? doc['current-context']) as { context?: { user?: unknown } } | undefined;
  const entry = named(doc.users, ctx?.context?.user) as { name?: string; user?: Record<string, unknown> } | undefined;
  const file = entry?.user?.['token-file'];
  if (file === undefined || entry?.user?.token) return; // a token written in the file wins; the file is not read
  if (typeof file !== 'string' || !(allow ?? []).includes(`token-file:${file}`))
    throw new ClusterReadError(
      `kubeconfig ${kubeconfig}: user "${entry?.name ?? ''}" reads its token from the file "${String(file)}", which is not on the allowlist, so it was not read; allow it with "scan --allow-exec-plugin token-file:${String(file)}" or allowExecPlugins in the fleet file if you trust it`,
      'error',
    );
}

/**
 * How to reach the target's cluster: its server, credentials (every secret of them added to `scrubber`, so no
 * message carries one) and a keep-alive agent. Every failure is a ClusterReadError that names no credential.
 */
export async function connect(target: KubeconfigTarget, scrubber: Scrubber): Promise<Connection> {
  const { cluster, url, o, headers } = await resolveKubeconfig(target, scrubber);
  return {
    protocol: url.protocol as 'https:' | 'http:',
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
    prefix: url.pathname.replace(/\/+$/, ''),
    headers,
    auth: o.auth ?? undefined,
    agent: agentFor(cluster, url, o),
  };
}

/** What a kubeconfig says about reaching its cluster, checked (plugins, token files, protocol); shared with the watch. */
export interface ResolvedKubeconfig {
  cluster: NonNullable<ReturnType<KubeConfig['getCurrentCluster']>>;
  url: URL;
  /** TLS material and auth as client-node applies them (ca, cert, key, servername, rejectUnauthorized, agent). */
  o: https.RequestOptions;
  headers: Record<string, string | string[]>;
}

/** The kubeconfig read and its user's credentials obtained (allowed plugins run here); ClusterReadError on failure. */
export async function resolveKubeconfig(target: KubeconfigTarget, scrubber: Scrubber): Promise<ResolvedKubeconfig> {
  const kc = loadKubeconfig(target);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ClusterReadError(`kubeconfig ${target.kubeconfig} has no cluster for context "${target.context ?? kc.getCurrentContext()}"`, 'error');
  const user = kc.getCurrentUser();
  checkCredentialPlugins(user, target.allowExecPlugins, target.kubeconfig);
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
  if (url.protocol === 'http:' && !cluster.proxyUrl && !cluster.skipTLSVerify) throw new ClusterReadError('plain http is refused unless the kubeconfig sets insecure-skip-tls-verify', 'error');
  const { o, headers } = await credentials(kc, scrubber);
  return { cluster, url, o, headers };
}

/** The kubeconfig file, loaded (token files checked first) and set to the target's context. */
function loadKubeconfig(target: KubeconfigTarget): KubeConfig {
  const { kubeconfig, context } = target;
  const kc = new KubeConfig();
  try {
    checkTokenFile(readFileSync(kubeconfig, 'utf8'), context, target.allowExecPlugins, kubeconfig);
    kc.loadFromFile(kubeconfig);
  } catch (err) {
    if (err instanceof ClusterReadError) throw err;
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
  return kc;
}

/** The TLS material and headers of the current user (auth plugins run here), each secret added to `scrubber`. */
async function credentials(kc: KubeConfig, scrubber: Scrubber): Promise<{ o: https.RequestOptions; headers: Record<string, string | string[]> }> {
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
  return { o, headers };
}

function agentFor(cluster: NonNullable<ReturnType<KubeConfig['getCurrentCluster']>>, url: URL, o: https.RequestOptions): http.Agent {
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
  return agent;
}
