import { CoreV1Api, KubeConfig, makeInformer, type Informer, type ListWatch, type V1Namespace } from '@kubernetes/client-node';
import type { Logger } from 'pino';

/**
 * Namespace labels for namespace-scope policies, kept current by a list-watch on namespaces
 * (@kubernetes/client-node's informer). A broken watch is restarted with capped backoff; until the first list
 * arrives (or without cluster access at all) lookups answer "unknown", which policies see as `namespace.known: false`.
 */
export class NamespaceCache {
  private readonly labels = new Map<string, Record<string, string>>();
  private informer?: Informer<V1Namespace>;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  private backoffMs = 500;
  synced = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly logger: Logger,
    private readonly onSize: (n: number) => void = () => {},
  ) {}

  /** In-cluster config when KUBERNETES_SERVICE_HOST is set, else the given kubeconfig file; undefined: no cluster access. */
  static kubeConfig(kubeconfigFile: string | undefined): KubeConfig | undefined {
    const kc = new KubeConfig();
    if (kubeconfigFile) kc.loadFromFile(kubeconfigFile);
    else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else return undefined;
    return kc;
  }

  get size(): number {
    return this.labels.size;
  }

  /** The namespace's labels, or undefined when the cache does not know it. */
  lookup = (name: string): Record<string, string> | undefined => this.labels.get(name);

  start(): Promise<void> {
    const api = this.kc.makeApiClient(CoreV1Api);
    // makeInformer returns a ListWatch; its type says only Informer & ObjectCache.
    const informer = makeInformer<V1Namespace>(this.kc, '/api/v1/namespaces', () => api.listNamespace()) as unknown as ListWatch<V1Namespace>;
    this.informer = informer;
    const put = (ns: V1Namespace) => {
      const name = ns.metadata?.name;
      if (!name) return;
      this.labels.set(name, { ...(ns.metadata?.labels ?? {}) });
      this.onSize(this.labels.size);
    };
    informer.on('add', (ns) => {
      put(ns);
      if (!this.synced && informer.latestResourceVersion()) this.synced = true;
    });
    informer.on('update', put);
    informer.on('delete', (ns) => {
      if (ns.metadata?.name) this.labels.delete(ns.metadata.name);
      this.onSize(this.labels.size);
    });
    informer.on('connect', () => {
      this.backoffMs = 500;
    });
    informer.on('error', (err) => {
      if (this.stopped) return;
      this.logger.warn({ reason: err instanceof Error ? err.message : String(err), retryMs: this.backoffMs }, 'namespace watch failed; restarting');
      this.retry = setTimeout(() => {
        if (!this.stopped) informer.start().catch(() => {});
      }, this.backoffMs);
      this.retry.unref();
      this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
    });
    return informer.start().then(
      () => {
        // start() also resolves after a failed list (the informer reports that through 'error' and we retry).
        this.synced = informer.latestResourceVersion() !== '';
        if (this.synced) this.logger.info({ namespaces: this.labels.size }, 'namespace cache synced');
      },
      (err) => {
        this.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'namespace list failed; will retry');
      },
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.informer?.stop().catch(() => {});
  }
}
