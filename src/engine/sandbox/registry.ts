import type { Policy } from '../../authoring/index.js';
import type { SandboxResult } from './host.js';
import type { SandboxJob } from './protocol.js';

/**
 * Which sandbox a user policy's definition belongs to. Kept apart from host.ts so that code asking the question
 * (the runtime, `fleetgate test`) does not load isolated-vm when there are no user policies.
 */
export interface PolicySandbox {
  run(job: SandboxJob, timeoutMs?: number): SandboxResult;
  /** Several jobs in as few calls as can be, each judged as `run` judges it (results in the jobs' order). */
  runBatch(jobs: readonly SandboxJob[], timeoutMs?: number): SandboxResult[];
  dispose(): void;
}

const sandboxes = new WeakMap<Policy, PolicySandbox>();

export function sandboxOf(policy: Policy): PolicySandbox | undefined {
  return sandboxes.get(policy);
}

export function registerSandboxed(policy: Policy, sandbox: PolicySandbox): void {
  sandboxes.set(policy, sandbox);
}
