import { parentPort, workerData } from 'node:worker_threads';
import { Engine } from '../engine.js';
import type { Resource } from '../../model/index.js';
import { loadPolicySet } from '../../loading/index.js';
import type { PathSegments, SourceLocation } from '../../model/index.js';
import type { JobRequest, JobResponse, WorkerFinding, WorkerSetup } from './protocol.js';

/**
 * A policy worker: loads the user's policies once, then judges objects on request. It runs on its own thread so
 * that the main thread can terminate it when a policy loops or allocates without bound.
 */

const setup = workerData as WorkerSetup;
const progress = new Int32Array(setup.progress);
const port = parentPort!;

/** Carries the resource index and path through the engine's `locate` hook, so the main thread can map them. */
interface Marker extends SourceLocation {
  resourceIndex: number;
  segments: PathSegments;
}

async function main(): Promise<void> {
  const { policies, errors } = await loadPolicySet(setup.files);
  if (errors.length) {
    port.postMessage({ ready: false, error: errors.map((e) => `${e.file}: ${e.message}`).join('; ') });
    return;
  }
  const ids = policies.map((p) => p.id);
  const index = new Map(ids.map((id, i) => [id, i]));
  const engines = new Map<string, ReturnType<Engine['bind']>>();
  // Bound engines per cluster context (and per set of stopped policies); a fleet scan reuses them across clusters.
  const engineFor = (job: JobRequest) => {
    const key = `${JSON.stringify(job.cluster)}|${job.disabled.join(',')}`;
    let e = engines.get(key);
    if (!e) {
      if (engines.size > 256) engines.clear();
      engines.set(key, (e = new Engine(policies.filter((p) => !job.disabled.includes(p.id))).bind(job.cluster)));
    }
    return e;
  };
  port.on('message', (job: JobRequest) => {
    let response: JobResponse;
    try {
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
        namespaceLabels: labels ? (name) => labels[name] : undefined,
        onPolicy: (resourceIndex, policyId) => {
          progress[0] = resourceIndex;
          progress[1] = index.get(policyId) ?? -1;
        },
      });
      const findings: WorkerFinding[] = evaluation.findings.map((f) => {
        const marker = f.source as Marker | undefined;
        const { source: _marker, ...rest } = f;
        return { ...rest, resourceIndex: marker?.resourceIndex ?? -1, segments: marker?.segments ?? [] };
      });
      response = { id: job.id, ok: true, findings, objects: evaluation.objects, checks: evaluation.checks };
    } catch (err) {
      response = { id: job.id, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(response);
  });
  port.postMessage({ ready: true, policies: ids });
}

main().catch((err) => port.postMessage({ ready: false, error: err instanceof Error ? err.message : String(err) }));
