import type { ClusterContext } from './context.js';
import { resolveAction } from './context.js';
import type { Policy } from '../authoring/index.js';
import { Engine, type ClusterEngine, type EvaluateOptions, type Evaluation } from './engine.js';
import type { Evaluator } from './evaluator.js';
import { isExceptionObject } from './exceptions.js';
import { refOf, type Finding, type KubeObject, type Resource } from '../model/index.js';
import type { SandboxOptions } from './sandbox/host.js';
import { sandboxOf, type PolicySandbox } from './sandbox/registry.js';

/**
 * The policy set of one cluster, ready to judge: built-in policies on the calling thread, users' policies in the
 * sandbox (a V8 isolate, called synchronously with a time budget). lint, scan and serve all evaluate through it.
 * The two never mix: a user policy that throws, runs over budget or is stopped yields an error finding for that
 * policy, and the built-in findings of the same evaluation are kept as they are.
 */
export class PolicyRuntime implements Evaluator {
  /** The trusted policies bound to this runtime's cluster. */
  readonly engine: ClusterEngine;

  private constructor(
    private readonly trusted: Engine,
    private readonly cluster: ClusterContext,
    private readonly userPolicies: Map<string, Policy>,
    private readonly sandbox: PolicySandbox | undefined,
    private readonly timeoutMs: number,
    private readonly owner: boolean,
  ) {
    this.engine = trusted.bind(cluster);
  }

  static async create(policies: readonly Policy[], cluster: ClusterContext = {}, sandbox: SandboxOptions = {}): Promise<PolicyRuntime> {
    new Engine(policies); // one check for duplicate ids across built-in and user policies
    const trusted = policies.filter((p) => !p.file);
    const user = policies.filter((p) => p.file);
    const hosts = new Set(user.map((p) => sandboxOf(p)));
    if (hosts.has(undefined)) throw new Error('a user policy was not loaded by loadPolicySet (it has no sandbox)');
    if (hosts.size > 1) throw new Error('user policies from more than one loadPolicySet call cannot share a runtime');
    const [host] = hosts as Set<PolicySandbox>;
    return new PolicyRuntime(new Engine(trusted), cluster, new Map(user.map((p) => [p.id, p])), host, sandbox.timeoutMs ?? 10_000, true);
  }

  /** The same policies for another cluster, sharing this runtime's sandbox (a fleet scan makes one per cluster). */
  forCluster(cluster: ClusterContext): PolicyRuntime {
    return new PolicyRuntime(this.trusted, cluster, this.userPolicies, this.sandbox, this.timeoutMs, false);
  }

  async evaluate(resources: readonly Resource[], opts: EvaluateOptions = {}): Promise<Evaluation> {
    return this.evaluateNow(resources, opts);
  }

  /** Built-in and user policies on the calling thread; the sandbox's budget bounds how long the user part may take. */
  evaluateNow(resources: readonly Resource[], opts: EvaluateOptions = {}): Evaluation {
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
    const result = this.sandbox.run(
      {
        cluster: this.cluster,
        objects: judged.map((r) => r.object),
        operation: opts.operation,
        oldObject: opts.oldObject,
        scopes: opts.scopes ? [...opts.scopes] : undefined,
        namespaceLabels,
        countChecks: opts.countChecks,
        now: (opts.now ?? new Date()).getTime(),
      },
      this.timeoutMs,
    );
    const findings: Finding[] = [];
    for (const { resourceIndex, segments, ...f } of result.findings) {
      if (!this.userPolicies.has(f.policy)) continue;
      const r = judged[resourceIndex];
      const source = r?.locate?.(segments);
      // The resource is named from our own copy of the object, not from what the sandbox said.
      const finding: Finding = r ? { ...f, resource: refOf(r.object) } : f;
      if (source) finding.source = source;
      findings.push(finding);
    }
    for (const s of result.stopped) {
      if (!this.userPolicies.has(s.policy)) continue;
      const r = judged[s.resourceIndex] ?? (judged.length === 1 ? judged[0] : undefined);
      findings.push(this.stoppedFinding(s.policy, r?.object, s.reason, r));
    }
    const { kept, waived } = this.engine.applyExceptions(findings, main.exceptions);
    return { ...main, findings: [...main.findings, ...kept], waived: main.waived + waived, checks: { ...main.checks, ...result.checks } };
  }

  evaluateObject(object: KubeObject, opts: EvaluateOptions = {}): Promise<Evaluation> {
    return Promise.resolve(this.evaluateObjectNow(object, opts));
  }

  /** The webhook's synchronous path: no promise, no timer, no thread hop per review. */
  evaluateObjectNow(object: KubeObject, opts: EvaluateOptions = {}): Evaluation {
    return this.evaluateNow([{ object }], { scopes: ['object', 'namespace'], ...opts });
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

  /** Releases the sandbox (only the runtime that was created for it can). */
  async close(): Promise<void> {
    if (this.owner) this.sandbox?.dispose();
  }
}
