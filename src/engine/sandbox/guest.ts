import type { Policy } from '../../authoring/index.js';
import { ClusterEngine } from '../engine.js';
import type { PathSegments, Resource, SourceLocation } from '../../model/index.js';
import type { GuestJob, PolicyMeta, WorkerFinding } from './protocol.js';

/**
 * The part of a policy bundle that fleetgate adds: it runs inside the isolate, next to the user's module, and turns
 * the module's exports into policy metadata (plain data for the main thread) and findings for a job. Each policy
 * file gets its own copy, so a file that patches these internals only changes its own verdicts.
 */

function isPolicy(v: unknown): v is Policy {
  return !!v && typeof v === 'object' && typeof (v as Policy).id === 'string' && typeof (v as Policy).validate === 'function';
}

/** Carries the resource index and path through the engine's `locate` hook, so the main thread can map them. */
interface Marker extends SourceLocation {
  resourceIndex: number;
  segments: PathSegments;
}

export interface Guest {
  /** JSON of PolicyMeta[]. */
  meta(): string;
  /** JSON of WorkerFinding[] for the job; `progress(resourceIndex, policyIndex)` is called before each policy runs. */
  run(job: GuestJob, progress: (resourceIndex: number, policyIndex: number) => void): string;
}

export function makeGuest(mod: Record<string, unknown>): Guest {
  const policies: Policy[] = [];
  for (const value of Object.values(mod)) {
    for (const v of Array.isArray(value) ? value : [value]) if (isPolicy(v) && !policies.includes(v)) policies.push(v);
  }
  const index = new Map(policies.map((p, i) => [p.id, i]));
  const engines = new Map<string, ClusterEngine>();
  const engineFor = (job: GuestJob): ClusterEngine => {
    const key = `${job.clusterKey}|${job.disabled.join(',')}|${job.only ?? ''}`;
    let e = engines.get(key);
    if (!e) {
      if (engines.size > 256) engines.clear();
      const active = policies.filter((p) => !job.disabled.includes(p.id) && (job.only === undefined || p.id === job.only));
      engines.set(key, (e = new ClusterEngine(active, job.cluster)));
    }
    return e;
  };
  return {
    meta() {
      const out: PolicyMeta[] = policies.map((p) => ({
        id: p.id,
        title: p.title,
        description: p.description,
        area: p.area,
        severity: p.severity,
        action: p.action,
        scope: p.scope,
        match: p.match,
        exclude: p.exclude,
        params: p.params,
        examples: p.examples,
      }));
      return JSON.stringify(out);
    },
    run(job, progress) {
      const resources: Resource[] = job.objects.map((object, resourceIndex) => ({
        object,
        locate: (segments): Marker => ({ file: '', line: 0, column: 0, resourceIndex, segments }),
      }));
      const labels = job.namespaceLabels;
      const evaluation = engineFor(job).evaluate(resources, {
        operation: job.operation,
        oldObject: job.oldObject,
        scopes: job.scopes,
        now: new Date(job.now),
        countChecks: job.countChecks,
        namespaceLabels: labels ? (name) => (Object.prototype.hasOwnProperty.call(labels, name) ? labels[name] : undefined) : undefined,
        onPolicy: (resourceIndex, policyId) => progress(resourceIndex, index.get(policyId) ?? -1),
      });
      const findings: WorkerFinding[] = evaluation.findings.map((f) => {
        const marker = f.source as Marker | undefined;
        return {
          policy: f.policy,
          severity: f.severity,
          action: f.action,
          message: f.message,
          resource: f.resource,
          path: f.path,
          error: f.error,
          resourceIndex: marker?.resourceIndex ?? -1,
          segments: marker?.segments ?? [],
        };
      });
      return JSON.stringify({ findings, checks: evaluation.checks, topSeverity: evaluation.topSeverity });
    },
  };
}
