import type { ClusterEngine, EvaluateOptions, Evaluation } from './engine.js';
import type { KubeObject } from '../model/index.js';

/**
 * How an entry point asks for a verdict on one object. Asynchronous on purpose: the in-process engine answers at
 * once, while user policies may run in worker threads where a runaway policy can be cut off by a time budget.
 * The webhook wraps its per-request budget around this promise.
 */
export interface Evaluator {
  evaluateObject(object: KubeObject, opts?: EvaluateOptions): Promise<Evaluation>;
  /**
   * The same verdict on the calling thread, for evaluators that run nothing a time budget could stop (built-in
   * policies): the webhook then answers without a promise or a timer per review.
   */
  evaluateObjectNow?(object: KubeObject, opts?: EvaluateOptions): Evaluation;
  /** Releases workers, if any. */
  close?(): Promise<void>;
}

/** The fast path: built-in (and trusted) policies evaluated on the calling thread. */
export function inProcessEvaluator(engine: ClusterEngine): Evaluator {
  return {
    evaluateObject: async (object, opts) => engine.evaluateObject(object, opts),
    evaluateObjectNow: (object, opts) => engine.evaluateObject(object, opts),
  };
}
