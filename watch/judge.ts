import type { KubeObject, Policy } from '../src/index.js';
import { createEvaluator, type ClusterContext, type Evaluation, type Evaluator } from '../src/engine/index.js';

/**
 * The one place the watch talks to the engine: the evaluation façade (built-in policies in-process, users' policies
 * in the sandbox isolate), bound once per cluster.
 *
 * Two questions are asked, matching the two halves of a scan's evaluation:
 * - `object`: object- and namespace-scope policies on one object, with the namespace labels and the waivers of its
 *   cluster given from outside (the watch keeps them, not the whole cluster);
 * - `cluster`: cluster-scope policies (and the waivers themselves) over the small inventory the watch keeps.
 */
export interface ClusterJudge {
  /** The evaluator bound to the cluster (scoring reads labels and system namespaces from it). */
  readonly engine: Pick<Evaluator, 'labels' | 'isSystemNamespace'>;
  object(object: KubeObject, ctx: { namespaceLabels: (ns: string) => Record<string, string> | undefined; exceptions: Evaluation['exceptions']; now?: Date }): Promise<Evaluation>;
  cluster(objects: readonly KubeObject[], now?: Date): Promise<Evaluation>;
}

export interface Judge {
  readonly policies: readonly Policy[];
  /** The time judgements are made at (a clock the tests can shift; waivers expire by it). */
  now(): Date;
  forCluster(ctx: ClusterContext): ClusterJudge;
  close(): Promise<void>;
}

export async function createJudge(policies: readonly Policy[], opts: { sandboxTimeoutMs?: number; clock?: () => Date } = {}): Promise<Judge> {
  const evaluator = await createEvaluator(policies, {}, { sandbox: { timeoutMs: opts.sandboxTimeoutMs ?? 30_000 } });
  const clock = opts.clock ?? (() => new Date());
  return {
    policies,
    now: clock,
    forCluster(ctx) {
      const ev: Evaluator = evaluator.forCluster(ctx);
      return {
        engine: ev,
        object: async (object, o) =>
          ev.evaluate([{ object }], { scopes: ['object', 'namespace'], namespaceLabels: o.namespaceLabels, exceptions: o.exceptions, now: o.now ?? clock() }),
        cluster: async (objects, now) => ev.evaluate(objects.map((object) => ({ object })), { scopes: ['cluster'], now: now ?? clock() }),
      };
    },
    close: () => evaluator.close(),
  };
}

/** Kinds (as `Kind`, the plain name the Inventory indexes by) that cluster-scope policies read: the watch keeps these objects whole. */
export function clusterScopeKinds(policies: readonly Policy[]): Set<string> {
  const kinds = new Set<string>(['Namespace']);
  for (const p of policies) {
    if (p.scope !== 'cluster') continue;
    for (const k of p.match.kinds) kinds.add(k.slice(k.lastIndexOf('/') + 1));
  }
  return kinds;
}

/** Kinds (plain names) fleet-scope policies declare: kept whole so the fleet rules' index can be built. */
export function fleetScopeKinds(policies: readonly Policy[]): Set<string> {
  const kinds = new Set<string>();
  for (const p of policies) if (p.scope === 'fleet') for (const k of p.match.kinds) kinds.add(k.slice(k.lastIndexOf('/') + 1));
  return kinds;
}
