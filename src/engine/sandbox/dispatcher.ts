import type { ClusterInfo, Policy } from '../../authoring/index.js';
import type { Resource, SourceLocation, PathSegments } from '../../model/index.js';
import { ClusterEngine } from '../engine.js';
import { deepFreeze, loadPolicy, policiesOf, shim, type LoadedPolicy } from './guest.js';
import type { GuestJob, WorkerFinding } from './protocol.js';
import type { Site } from './sites.js';

/**
 * The isolate's side of the sandbox: every loaded file's policies, and one engine over all of them per cluster
 * context, so a job (a review, a lint run, a scanned cluster) is one call in, one pass over the objects by one copy
 * of the evaluation code, and one JSON string out. Reachable only through the host's reference (never a global).
 *
 * `progress` is shared with the host: [file, resource, policy-in-file] of the policy running now, so that after
 * stopping the isolate the host knows whom to blame; -2 in the first cell once the engine has returned (a stop
 * then came from a promise job some file queued).
 */

/** Carries the resource index and path through the engine's `locate` hook, so the main thread can map them. */
interface Marker extends SourceLocation {
  resourceIndex: number;
  segments: PathSegments;
}

interface Bound {
  engine: ClusterEngine;
  /** Engine policy id → where it came from. */
  byId: Map<string, LoadedPolicy>;
}

/** Freezes parsed JSON (plain data only: faster than the general deepFreeze, which reads descriptors). */
function freezeData<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  Object.freeze(v);
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) freezeData(v[i]);
  else for (const k of Object.keys(v)) freezeData((v as Record<string, unknown>)[k]);
  return v;
}

export function createDispatcher(progress: Int32Array, api: unknown) {
  const files: { script: string; policies: LoadedPolicy[] }[] = [];
  const engines = new Map<string, Bound>();
  /** Where the policies that threw in this job threw: "resource\0policy" → bundle line and column. */
  const sites = new Map<string, Site>();
  let resource = -1;
  let runningId = '';

  const mark = (file: number, res: number, pol: number) => {
    progress[0] = file;
    progress[1] = res;
    progress[2] = pol;
  };

  const engineFor = (job: GuestJob, onlyFile: number): Bound => {
    const key = `${job.clusterKey}|${job.disabled.join(',')}|${job.only ?? ''}|${onlyFile}`;
    let bound = engines.get(key);
    if (bound) return bound;
    if (engines.size > 256) engines.clear();
    // The host sends the cluster context once per review only as its key (its JSON).
    const context = deepFreeze((job.cluster ?? JSON.parse(job.clusterKey)) as GuestJob['cluster']);
    const cluster: ClusterInfo = deepFreeze({ name: context.name, labels: { ...(context.labels ?? {}) } });
    const disabled = new Set(job.disabled);
    const byId = new Map<string, LoadedPolicy>();
    const active: Policy[] = [];
    files.forEach((f, i) => {
      if (onlyFile >= 0 && i !== onlyFile) return;
      for (const p of f.policies) {
        if (disabled.has(`${p.file}:${p.index}`) || byId.has(p.meta.id) || (job.only !== undefined && p.meta.id !== job.only)) continue;
        byId.set(p.meta.id, p);
        active.push(
          shim(p, cluster, f.script, (site) => {
            if (site && runningId === p.meta.id) sites.set(`${resource}\0${p.meta.id}`, site);
          }),
        );
      }
    });
    engines.set(key, (bound = { engine: new ClusterEngine(active, context), byId }));
    return bound;
  };

  return {
    /**
     * Runs a file's top level (`factory` is its wrapped bundle) and registers its policies. Returns the JSON of
     * their definitions; a file exporting none is not registered ("[]"). `factory` null holds a file's place
     * after a rebuilt isolate could not load it again.
     */
    add(factory: ((api: unknown) => unknown) | null, script: string): string {
      const file = files.length;
      mark(file, -1, -1);
      if (factory === null) {
        files.push({ script, policies: [] });
        return '[]';
      }
      const policies = policiesOf(factory(api)).map((p, i) => loadPolicy(p, file, i));
      if (policies.length) files.push({ script, policies });
      engines.clear();
      return JSON.stringify(policies.map((p) => p.meta));
    },

    /**
     * Runs every active policy of every file (or of `onlyFile`) on the job, frozen: one pass. The JSON of
     * { findings, checks, topSeverity }, or "!" when the engine itself failed (the host then runs the files one at a time).
     */
    run(jobJson: string, onlyFile = -1): string {
      const job = freezeData(JSON.parse(jobJson) as GuestJob);
      mark(-1, -1, -1);
      sites.clear();
      let out: string;
      try {
        const { engine, byId } = engineFor(job, onlyFile);
        const resources: Resource[] = job.objects.map((object, resourceIndex) =>
          Object.freeze({ object, locate: Object.freeze((segments: PathSegments): Marker => ({ file: '', line: 0, column: 0, resourceIndex, segments })) }),
        );
        const labels = job.namespaceLabels;
        const evaluation = engine.evaluate(Object.freeze(resources), {
          operation: job.operation,
          oldObject: job.oldObject,
          scopes: job.scopes,
          now: new Date(job.now),
          countChecks: job.countChecks,
          namespaceLabels: labels ? (name) => (Object.prototype.hasOwnProperty.call(labels, name) ? labels[name] : undefined) : undefined,
          onPolicy: (resourceIndex, id) => {
            const p = byId.get(id);
            resource = resourceIndex;
            runningId = id;
            mark(p ? p.file : -1, resourceIndex, p ? p.index : -1);
          },
        });
        mark(-2, -1, -1);
        const findings: (WorkerFinding & { site?: Site })[] = evaluation.findings.map((f) => {
          const marker = f.source as Marker | undefined;
          const resourceIndex = marker?.resourceIndex ?? -1;
          const site = f.error ? sites.get(`${resourceIndex}\0${f.policy}`) : undefined;
          return {
            policy: f.policy,
            severity: f.severity,
            action: f.action,
            message: f.message,
            resource: f.resource,
            path: f.path,
            ...(f.error ? { error: true as const } : {}),
            resourceIndex,
            segments: marker?.segments ?? [],
            ...(site ? { site } : {}),
          };
        });
        out = JSON.stringify({ findings, checks: evaluation.checks, topSeverity: evaluation.topSeverity });
      } catch {
        out = '!';
      }
      mark(-2, -1, -1);
      return out;
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
