// Shared by the webhook tests (kept under fixtures/ so tap does not run it as a test file).
import { Agent, request as httpsRequest } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generate } from 'selfsigned';
import { pino } from 'pino';
import { builtinPolicies } from '../../policies/index.js';
import { definePolicy, type Policy } from '../../src/index.js';
import type { ClusterContext, Evaluation, EvaluateOptions, Evaluator } from '../../src/engine/index.js';
import type { KubeObject } from '../../src/model/index.js';
import { mergeSettings, type WebhookConfigFile } from '../../webhook/config.js';
import { createWebhookServer, type WebhookServer } from '../../webhook/server.js';
import type { Tracer } from '../../webhook/otlp.js';

export interface Certs {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export async function makeCert(cn = 'fleetgate-test'): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: cn }], {
    algorithm: 'sha256',
    keyType: 'ec',
    curve: 'P-256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  } as never);
  return { cert: pems.cert, key: pems.private };
}

/** A cert and key in a temp folder; given a tap test, the folder is removed when the test ends. */
export async function makeCerts(t?: { teardown(fn: () => unknown): void }): Promise<Certs> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetgate-webhook-test-'));
  t?.teardown(() => rm(dir, { recursive: true, force: true }));
  const { cert, key } = await makeCert();
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  await writeFile(certFile, cert);
  await writeFile(keyFile, key);
  return { dir, certFile, keyFile, cert, key };
}

export interface Started {
  server: WebhookServer;
  port: number;
  certs: Certs;
  logs: string[];
  agent: Agent;
  post(body: unknown, opts?: { contentType?: string; raw?: boolean; headers?: Record<string, string> }): Promise<Reply>;
  get(path: string): Promise<Reply>;
  close(): Promise<void>;
}

export interface Reply {
  status: number;
  text: string;
  json: any;
  headers: Record<string, unknown>;
}

export async function startServer(
  opts: {
    policies?: readonly Policy[] | Promise<readonly Policy[]>;
    config?: WebhookConfigFile;
    labels?: Record<string, string>;
    actions?: Record<string, 'deny' | 'warn' | 'audit'>;
    evaluator?: (policies: readonly Policy[], cluster: ClusterContext) => Evaluator | Promise<Evaluator>;
    namespaceLabels?: (name: string) => Record<string, string> | undefined;
    dependenciesReady?: () => boolean;
    reloadIntervalMs?: number;
    certs?: Certs;
    tracer?: Tracer;
  } = {},
): Promise<Started> {
  const certs = opts.certs ?? (await makeCerts());
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(line);
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const settings = mergeSettings(opts.config ?? {}, { labels: opts.labels ?? {}, actions: opts.actions ?? {} });
  const server = await createWebhookServer({
    settings,
    policies: opts.policies ?? builtinPolicies,
    tls: { certFile: certs.certFile, keyFile: certs.keyFile, reloadIntervalMs: opts.reloadIntervalMs ?? 60_000 },
    logger,
    evaluator: opts.evaluator,
    namespaceLabels: opts.namespaceLabels,
    dependenciesReady: opts.dependenciesReady,
    tracer: opts.tracer,
  });
  const { port } = await server.listen(0, '127.0.0.1');
  await server.ready;
  const agent = new Agent({ ca: certs.cert, keepAlive: true, maxSockets: 64 });
  const call = (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) =>
    new Promise<Reply>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, json, headers: res.headers });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  return {
    server,
    port,
    certs,
    logs,
    agent,
    post: (body, o = {}) => {
      const text = o.raw ? (body as string | Buffer) : JSON.stringify(body);
      return call('POST', '/validate', text, { 'content-type': o.contentType ?? 'application/json', ...o.headers });
    },
    get: (path) => call('GET', path),
    async close() {
      agent.destroy();
      await server.close();
      await rm(certs.dir, { recursive: true, force: true });
    },
  };
}

let uidCounter = 0;

export function review(
  object: Record<string, unknown> | null,
  o: { operation?: string; uid?: string; namespace?: string; user?: string; dryRun?: boolean; oldObject?: unknown } = {},
) {
  const meta = (object?.metadata ?? {}) as { name?: string; namespace?: string };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: o.uid ?? `uid-${++uidCounter}`,
      kind: { group: '', version: 'v1', kind: String(object?.kind ?? 'Pod') },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: o.operation ?? 'CREATE',
      namespace: o.namespace ?? meta.namespace,
      name: meta.name,
      userInfo: { username: o.user ?? 'alice', groups: ['system:authenticated'] },
      object,
      oldObject: o.oldObject ?? null,
      dryRun: o.dryRun ?? false,
    },
  };
}

export const hostPidPod = (name = 'debug', namespace = 'shop') => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace },
  // Compliant with every other built-in policy, so hostPID is the one thing wrong with it.
  spec: {
    hostPID: true,
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'sh',
        image: 'busybox:1.36',
        resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
        readinessProbe: { exec: { command: ['true'] } },
        livenessProbe: { exec: { command: ['true'] } },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      },
    ],
  },
});

export const compliantDeployment = (name = 'web', namespace = 'shop') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace, labels: { app: name } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          {
            name: 'web',
            image: 'registry.example/web:1.4.2',
            ports: [{ containerPort: 8080 }],
            resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
            readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
            livenessProbe: { tcpSocket: { port: 8080 } },
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
          },
        ],
      },
    },
  },
});

export const nonEuServiceEntry = () => ({
  apiVersion: 'networking.istio.io/v1beta1',
  kind: 'ServiceEntry',
  metadata: { name: 'remote-payment-service', namespace: 'payments' },
  spec: {
    hosts: ['payment-service.vertex-internal.svc.cluster.global'],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    endpoints: [{ address: 'payment-service.iad01.vertex-internal', ports: { grpc: 50051 }, locality: 'us-east-1/iad01' }],
  },
});

/** A stand-in for gdpr.no-egress-outside-eu (which lands in another branch): same rule, test id. */
export const testEgressPolicy = definePolicy({
  id: 'test.no-egress-outside-eu',
  title: 'ServiceEntry endpoints stay in EU localities',
  area: 'test',
  severity: 'high',
  action: 'deny',
  match: { kinds: ['networking.istio.io/ServiceEntry'], clusterLabels: { region: 'europe' } },
  validate({ get, report }) {
    const eps = get('spec.endpoints');
    if (!Array.isArray(eps)) return;
    eps.forEach((ep: { locality?: unknown }, i) => {
      const loc = typeof ep?.locality === 'string' ? ep.locality : '';
      if (!/^(eu-|europe-)/.test(loc)) report(`endpoint ${i} has locality "${loc}" outside the EU`, ['spec', 'endpoints', i, 'locality']);
    });
  },
  examples: { pass: [{}], fail: [{}] },
});

export function testPolicy(id: string, action: 'deny' | 'warn' | 'audit', kinds: string[], validate: (ctx: any) => void, extra: Record<string, unknown> = {}): Policy {
  return definePolicy({ id, title: `test policy ${id}`, area: 'test', severity: 'medium', action, match: { kinds }, validate, examples: { pass: [{}], fail: [{}] }, ...extra } as never);
}

export { builtinPolicies };

/**
 * An asynchronous evaluator over a synchronous one, with `evaluateObject` replaced: what a worker that stalls or
 * dies looks like to the webhook.
 */
export function asyncEvaluator(inner: Evaluator<true>, evaluateObject: (object: KubeObject, opts?: EvaluateOptions) => Promise<Evaluation>): Evaluator<false> {
  return {
    sync: false,
    policies: inner.policies,
    name: inner.name,
    labels: inner.labels,
    appliesTo: (kind) => inner.appliesTo(kind),
    isSystemNamespace: (name, labels) => inner.isSystemNamespace(name, labels),
    evaluate: async (resources, opts) => inner.evaluate(resources, opts),
    evaluateObject,
    evaluateChange: async (inventory, change, opts) => inner.evaluateChange(inventory, change, opts),
    forCluster: (cluster) => asyncEvaluator(inner.forCluster(cluster), evaluateObject),
    close: async () => {},
  };
}
