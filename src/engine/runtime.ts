import type { ClusterContext } from './context.js';
import { resolveAction } from './context.js';
import type { Policy } from '../authoring/index.js';
import { Engine, type ClusterEngine, type EvaluateOptions, type Evaluation } from './engine.js';
import type { Evaluator } from './evaluator.js';
import { isExceptionObject } from './exceptions.js';
import type { Resource } from '../model/index.js';
import { refOf } from '../model/index.js';
import { SandboxPool, type SandboxOptions } from './sandbox/pool.js';
import type { Finding, KubeObject } from '../model/index.js';

/**
 * The policy set of one cluster, ready to judge: built-in policies on the calling thread (the fast path),
 * users' policies in the sandbox where a runaway one can be stopped. lint, scan and serve all evaluate through it.
 */
export class PolicyRuntime implements Evaluator {
  /** The trusted policies bound to this runtime's cluster. */
  readonly engine: ClusterEngine;

  private constructor(
    private readonly trusted: Engine,
    private readonly cluster: ClusterContext,
    private readonly userPolicies: Map<string, Policy>,
    private readonly sandbox: SandboxPool | undefined,
    private readonly owner: boolean,
  ) {
    this.engine = trusted.bind(cluster);
  }

  static async create(policies: readonly Policy[], cluster: ClusterContext = {}, sandbox: SandboxOptions = {}): Promise<PolicyRuntime> {
    new Engine(policies); // one check for duplicate ids across built-in and user policies
    const trusted = policies.filter((p) => !p.file);
    const user = policies.filter((p) => p.file);
    const files = [...new Set(user.map((p) => p.file!))];
    const pool = files.length ? await SandboxPool.start(files, sandbox) : undefined;
    return new PolicyRuntime(new Engine(trusted), cluster, new Map(user.map((p) => [p.id, p])), pool, true);
  }

  /** The same policies for another cluster, sharing this runtime's workers (a fleet scan makes one per cluster). */
  forCluster(cluster: ClusterContext): PolicyRuntime {
    return new PolicyRuntime(this.trusted, cluster, this.userPolicies, this.sandbox, false);
  }

  async evaluate(resources: readonly Resource[], opts: EvaluateOptions = {}): Promise<Evaluation> {
    const main = this.engine.evaluate(resources, opts);
    if (!this.sandbox) return main;
    const judged = resources.filter((r) => !isExceptionObject(r.object));
    let namespaceLabels: Record<string, Record<string, string>> | undefined;
    if (opts.namespaceLabels) {
      namespaceLabels = {};
      for (const r of judged) {
        const ns = r.object.kind === 'Namespace' ? undefined : r.object.metadata?.namespace;
        const labels = ns ? opts.namespaceLabels(ns) : undefined;
        if (ns && labels) namespaceLabels[ns] = labels;
      }
    }
    const result = await this.sandbox.run({
      cluster: this.cluster,
      objects: judged.map((r) => r.object),
      operation: opts.operation,
      oldObject: opts.oldObject,
      scopes: opts.scopes ? [...opts.scopes] : undefined,
      namespaceLabels,
      now: (opts.now ?? new Date()).getTime(),
    });
    const findings: Finding[] = result.findings.map(({ resourceIndex, segments, ...f }) => {
      const source = judged[resourceIndex]?.locate?.(segments);
      return source ? { ...f, source } : f;
    });
    for (const s of result.stopped) findings.push(this.stoppedFinding(s.policy, judged[s.resourceIndex]?.object, s.reason, judged[s.resourceIndex]));
    const { kept, waived } = this.engine.applyExceptions(findings, main.exceptions);
    return { ...main, findings: [...main.findings, ...kept], waived: main.waived + waived, checks: { ...main.checks, ...result.checks } };
  }

  evaluateObject(object: KubeObject, opts: EvaluateOptions = {}): Promise<Evaluation> {
    return this.evaluate([{ object }], { scopes: ['object', 'namespace'], ...opts });
  }

  /** A policy that had to be stopped is an error finding (fail-open or fail-closed is the caller's choice). */
  private stoppedFinding(id: string, object: KubeObject | undefined, reason: string, resource?: Resource): Finding {
    const policy = this.userPolicies.get(id);
    const f: Finding = {
      policy: id,
      severity: policy?.severity ?? 'high',
      action: policy ? resolveAction(policy, this.cluster.actions) : 'deny',
      message: `policy error: stopped (${reason})${policy?.file ? ` in ${policy.file}` : ''}`,
      resource: object ? refOf(object) : { apiVersion: '', kind: '', name: '' },
      path: '$',
      error: true,
    };
    const source = resource?.locate?.([]);
    if (source) f.source = source;
    return f;
  }

  /** Stops the workers (only the runtime that started them can). */
  async close(): Promise<void> {
    if (this.owner) await this.sandbox?.close();
  }
}
