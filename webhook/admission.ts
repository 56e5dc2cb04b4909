import type { Logger } from 'pino';
import type { EvaluateOptions, Evaluation, Evaluator } from '../src/engine/index.js';
import { isPlainObject, matchesGlob } from '../src/model/index.js';
import type { Finding, KubeObject, Operation } from '../src/model/index.js';
import type { AdmissionSettings } from './config.js';
import type { WebhookMetrics } from './metrics.js';
import { nowMs, type Tracer } from './otlp.js';
import type { PolicyTiming } from './policy-metrics.js';
import { traceReview } from './review-trace.js';
import { Deadlines } from './deadlines.js';

/**
 * AdmissionReview (admission.k8s.io/v1) in, AdmissionReview out. Everything here is defensive about its input:
 * a review is client data, so every field we use is type-checked and anything unusable is a 400 with a message that
 * says which field; nothing a client sends is echoed back or logged beyond short identifying strings.
 */

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
const OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];
const MAX_WARNINGS = 20;
const MAX_WARNING_LENGTH = 256;
const MAX_MESSAGE_LENGTH = 4096;

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  warnings?: string[];
}

export type ReviewOutcome =
  | { statusCode: 200; body: { apiVersion: string; kind: 'AdmissionReview'; response: AdmissionResponse } }
  | { statusCode: 400; message: string; reason: string };

export interface ParsedRequest {
  uid: string;
  operation: Operation;
  object?: KubeObject;
  oldObject?: KubeObject;
  namespace?: string;
  name?: string;
  user?: string;
  dryRun: boolean;
  kind: string;
}

export interface AdmissionHandlerOptions {
  /** The policies bound to the webhook's cluster: synchronous (built-ins only) or not, decided when it was made. */
  evaluator: Evaluator;
  settings: AdmissionSettings;
  metrics: WebhookMetrics;
  logger: Logger;
  /** Labels of a namespace from the namespace cache; undefined when unknown (no cluster access, or not yet seen). */
  namespaceLabels?: (name: string) => Record<string, string> | undefined;
  /** Exports a span per review, with a child span per policy (instrumented with `trace`) or per sandbox call. */
  tracer?: Tracer;
}

/** A short, printable rendering of a client value for an error message. */
function show(v: unknown): string {
  const s = typeof v === 'string' ? v : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 64 ? `${clean.slice(0, 64)}…` : clean);
}

/** Identifying strings for logs and messages: bounded and free of control characters. */
export function ident(v: unknown): string | undefined {
  if (typeof v !== 'string' || !v) return undefined;
  // eslint-disable-next-line no-control-regex
  const clean = v.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 253 ? `${clean.slice(0, 253)}…` : clean;
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

const bad = (reason: string, message: string): ReviewOutcome => ({ statusCode: 400, reason, message });

/** Checks the parts of a review the webhook relies on; a string is the 400 message. */
export function parseReview(body: unknown): ParsedRequest | ReviewOutcome {
  if (!isPlainObject(body)) return bad('not-an-object', `the body must be a JSON object (an ${ADMISSION_API_VERSION} AdmissionReview), got ${show(body)}`);
  if (body.apiVersion !== ADMISSION_API_VERSION)
    return bad(
      'unsupported-version',
      `unsupported AdmissionReview apiVersion ${show(body.apiVersion)}: fleetgate serves ${ADMISSION_API_VERSION} only (set admissionReviewVersions: ["v1"] in the webhook configuration)`,
    );
  if (body.kind !== 'AdmissionReview') return bad('wrong-kind', `kind must be "AdmissionReview", got ${show(body.kind)}`);
  const r = body.request;
  if (!isPlainObject(r)) return bad('missing-request', `the AdmissionReview has no request object (request is ${r === undefined ? 'missing' : show(r)})`);
  if (typeof r.uid !== 'string' || !r.uid || r.uid.length > 256) return bad('bad-uid', `request.uid must be a non-empty string, got ${show(r.uid)}`);
  if (typeof r.operation !== 'string' || !OPERATIONS.includes(r.operation as Operation))
    return bad('bad-operation', `request.operation must be one of ${OPERATIONS.join(', ')}, got ${show(r.operation)}`);
  const operation = r.operation as Operation;
  for (const f of ['object', 'oldObject'] as const) {
    if (r[f] !== undefined && r[f] !== null && !isPlainObject(r[f])) return bad(`bad-${f}`, `request.${f} must be an object or null, got ${show(r[f])}`);
  }
  if ((operation === 'CREATE' || operation === 'UPDATE') && !isPlainObject(r.object))
    return bad('missing-object', `request.object must be an object for ${operation}, got ${r.object === undefined ? 'nothing' : show(r.object)}`);
  for (const f of ['namespace', 'name'] as const) {
    if (r[f] !== undefined && r[f] !== null && typeof r[f] !== 'string') return bad(`bad-${f}`, `request.${f} must be a string, got ${show(r[f])}`);
  }
  if (r.dryRun !== undefined && r.dryRun !== null && typeof r.dryRun !== 'boolean') return bad('bad-dryRun', `request.dryRun must be a boolean, got ${show(r.dryRun)}`);
  let user: string | undefined;
  if (r.userInfo !== undefined && r.userInfo !== null) {
    if (!isPlainObject(r.userInfo)) return bad('bad-userInfo', `request.userInfo must be an object, got ${show(r.userInfo)}`);
    const u = r.userInfo.username;
    if (u !== undefined && u !== null && typeof u !== 'string') return bad('bad-userInfo', `request.userInfo.username must be a string, got ${show(u)}`);
    user = typeof u === 'string' ? u : undefined;
  }
  const object = isPlainObject(r.object) ? (r.object as KubeObject) : undefined;
  const oldObject = isPlainObject(r.oldObject) ? (r.oldObject as KubeObject) : undefined;
  const subject = operation === 'DELETE' ? (oldObject ?? object) : object;
  const requestKind = isPlainObject(r.kind) && typeof r.kind.kind === 'string' ? r.kind.kind : undefined;
  const kind = typeof subject?.kind === 'string' ? subject.kind : (requestKind ?? '');
  const meta = isPlainObject(subject?.metadata) ? subject.metadata : undefined;
  return {
    uid: r.uid,
    operation,
    object,
    oldObject,
    namespace: typeof r.namespace === 'string' && r.namespace ? r.namespace : undefined,
    name: typeof r.name === 'string' && r.name ? r.name : typeof meta?.name === 'string' ? meta.name : undefined,
    user,
    dryRun: r.dryRun === true,
    kind,
  };
}

/** What the policies said about one review, before it is counted and answered. */
export interface Verdict {
  response: Partial<AdmissionResponse>;
  findings: Finding[];
  failure?: 'timeout' | 'crash';
  failureDetail?: string;
  /** With tracing on: when each policy (or the sandbox call for user policies) ran. */
  timings?: PolicyTiming[];
}

export class AdmissionHandler {
  private readonly titles = new Map<string, string>();
  /** Reviews waiting for an asynchronous evaluator, failed at their deadline (one timer for all). */
  private readonly deadlines = new Deadlines();

  constructor(private readonly o: AdmissionHandlerOptions) {
    for (const p of o.evaluator.policies) this.titles.set(p.id, p.title);
  }

  /**
   * Answers one parsed body through `done`, exactly once; never throws: an evaluation failure becomes a verdict
   * per failurePolicy. With a synchronous evaluator (built-in policies) `done` runs before `review` returns, with no
   * promise or timer per review; otherwise once the workers answered or the deadline passed.
   */
  review(body: unknown, deadline: number, done: (outcome: ReviewOutcome) => void): void {
    const started = performance.now();
    const parsed = parseReview(body);
    if ('statusCode' in parsed) {
      if (parsed.statusCode === 400) this.o.metrics.badRequests.inc({ reason: parsed.reason });
      return done(parsed);
    }
    const req = parsed;
    if (this.isExempt(req)) return done(this.answer(req, started, undefined));
    this.evaluate(req, deadline, (verdict) => done(this.answer(req, started, verdict)));
  }

  /** The AdmissionReview for a verdict (undefined: exempt, not judged), counted and timed. */
  private answer(req: ParsedRequest, started: number, verdict: Verdict | undefined): ReviewOutcome {
    const kindLabel = this.o.metrics.kindLabel(req.kind);
    const response: AdmissionResponse = { uid: req.uid, allowed: true };
    let decision = 'exempt';
    if (verdict) {
      Object.assign(response, verdict.response);
      decision = response.allowed ? 'allowed' : 'denied';
      this.account(req, verdict);
    }
    if (req.dryRun) this.o.metrics.dryRun.inc({ decision, operation: req.operation, kind: kindLabel });
    else this.o.metrics.countRequest(req.operation, kindLabel, decision);
    const ended = performance.now();
    this.o.metrics.observeDuration(req.operation, decision, (ended - started) / 1000);
    if (this.o.tracer) traceReview(this.o.tracer, req, decision, started, ended, verdict);
    return { statusCode: 200, body: { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response } };
  }

  private isExempt(req: ParsedRequest): boolean {
    const { exemptNamespaces, exemptUsers } = this.o.settings;
    const ns = req.namespace ?? (req.kind === 'Namespace' ? req.name : undefined);
    if (ns && exemptNamespaces.some((g) => matchesGlob(ns, g))) return true;
    if (req.user && exemptUsers.some((g) => matchesGlob(req.user!, g))) return true;
    return false;
  }

  private evaluate(req: ParsedRequest, deadline: number, done: (verdict: Verdict) => void): void {
    const { evaluator } = this.o;
    let subject = req.operation === 'DELETE' ? (req.oldObject ?? req.object) : req.object;
    if (!subject || !evaluator.appliesTo(req.kind)) return done({ response: {}, findings: [] });
    // The apiserver fills metadata.namespace from the request path; some clients send objects without it.
    const meta = subject.metadata;
    if (req.namespace && (meta === undefined || (isPlainObject(meta) && meta.namespace === undefined)))
      subject = { ...subject, metadata: { ...(meta ?? {}), namespace: req.namespace } };

    const opts: EvaluateOptions = {
      operation: req.operation,
      oldObject: req.operation === 'UPDATE' ? req.oldObject : undefined,
      username: req.user,
      namespaceLabels: this.o.namespaceLabels,
    };
    const policyMetrics = this.o.metrics.policies;
    if (evaluator.sync) {
      let evaluation: Evaluation;
      const started = this.o.tracer ? nowMs() : 0;
      try {
        evaluation = evaluator.evaluateObject(subject, opts);
      } catch (err) {
        policyMetrics.discardRuns();
        return done(this.onFailure('crash', `evaluation failed: ${errorText(err)}`, []));
      }
      const timings = this.o.tracer ? policyMetrics.takeTimings() : undefined;
      // Users' policies (the sandbox isolate) report the objects they judged in `checks`: counted as results too.
      policyMetrics.settle(evaluation.findings, undefined, evaluation.checks);
      const user = timings ? Object.keys(evaluation.checks).join(',') : '';
      if (timings && user) timings.push({ policy: `sandbox:${user}`, startMs: started, endMs: nowMs() });
      return done(this.judge(req, evaluation, timings));
    }
    const called = nowMs();
    const pending = evaluator.evaluateObject(subject, opts);
    const runs = policyMetrics.takeRuns(); // the in-process policies ran synchronously inside that call
    const timings = this.o.tracer ? policyMetrics.takeTimings() : undefined;
    const onTimeout = () => done(this.onFailure('timeout', `evaluation did not finish within ${this.o.settings.timeoutMs} ms`, []));
    if (deadline <= Date.now()) {
      pending.catch(() => {});
      return void queueMicrotask(onTimeout);
    }
    // One shared timer for every review waiting (Deadlines), not a timer and a racing promise per review.
    const waiting = this.deadlines.add(deadline, onTimeout);
    pending.then(
      (evaluation) => {
        if (!this.deadlines.settle(waiting)) return; // answered as a timeout already
        policyMetrics.settle(evaluation.findings, runs, evaluation.checks);
        // An asynchronous evaluator: one child span for its call, naming the policies it ran.
        const user = Object.keys(evaluation.checks).join(',');
        if (timings && user) timings.push({ policy: `sandbox:${user}`, startMs: called, endMs: nowMs() });
        done(this.judge(req, evaluation, timings));
      },
      (err) => {
        if (this.deadlines.settle(waiting)) done(this.onFailure('crash', `evaluation failed: ${errorText(err)}`, []));
      },
    );
  }

  /** Deny, warn and audit from the findings, with failed deny policies handled per failurePolicy. */
  private judge(req: ParsedRequest, evaluation: Evaluation, timings?: PolicyTiming[]): Verdict {
    const deny: Finding[] = [];
    const warnings: string[] = [];
    const failedDeny: Finding[] = [];
    for (const f of evaluation.findings) {
      if (f.error) {
        this.o.metrics.policyErrors.inc({ policy: f.policy, reason: 'error' });
        if (f.action === 'deny') failedDeny.push(f);
        else if (f.action === 'warn') warnings.push(`[${f.policy}] ${POLICY_ERROR}`);
      } else if (f.action === 'deny') deny.push(f);
      else if (f.action === 'warn') warnings.push(`[${f.policy}] ${f.message}${f.path && f.path !== '$' ? ` (at ${f.path})` : ''}`);
    }
    const response: Partial<AdmissionResponse> = {};
    let failure: 'crash' | undefined;
    if (failedDeny.length) {
      failure = 'crash';
      if (this.o.settings.failurePolicy === 'closed') {
        this.o.metrics.failClosed.inc({ reason: 'error' });
        deny.push(...failedDeny.map((f) => ({ ...f, path: '$', message: `${POLICY_ERROR} — denied because failurePolicy is closed` })));
      } else {
        this.o.metrics.failOpen.inc({ reason: 'error' });
        for (const f of failedDeny) warnings.push(`[${f.policy}] ${POLICY_ERROR} — admitted because failurePolicy is open`);
      }
    }
    if (deny.length) {
      response.allowed = false;
      response.status = { code: 403, reason: 'Forbidden', message: this.denialMessage(req, deny) };
    }
    if (warnings.length) response.warnings = boundWarnings(warnings);
    return { response, findings: evaluation.findings, failure, timings };
  }

  private onFailure(kind: 'timeout' | 'crash', detail: string, findings: Finding[]): Verdict {
    const reason = kind === 'timeout' ? 'timeout' : 'error';
    this.o.metrics.policyErrors.inc({ policy: '', reason });
    if (this.o.settings.failurePolicy === 'closed') {
      this.o.metrics.failClosed.inc({ reason });
      return {
        response: { allowed: false, status: { code: 403, reason: 'Forbidden', message: `fleetgate could not judge this request: ${detail}; denied because failurePolicy is closed` } },
        findings,
        failure: kind,
        failureDetail: detail,
      };
    }
    this.o.metrics.failOpen.inc({ reason });
    return {
      response: { warnings: [truncate(`fleetgate could not judge this request: ${detail}; admitted because failurePolicy is open`, MAX_WARNING_LENGTH)] },
      findings,
      failure: kind,
      failureDetail: detail,
    };
  }

  private denialMessage(req: ParsedRequest, deny: Finding[]): string {
    const byPolicy = new Map<string, Finding[]>();
    for (const f of deny) {
      let l = byPolicy.get(f.policy);
      if (!l) byPolicy.set(f.policy, (l = []));
      l.push(f);
    }
    const what = `${ident(req.kind) ?? 'object'}${req.name ? ` "${ident(req.name)}"` : ''}${req.namespace ? ` in namespace "${ident(req.namespace)}"` : ''}`;
    const parts: string[] = [];
    for (const [id, fs] of byPolicy) {
      const title = this.titles.get(id);
      const problems = fs.map((f) => `${f.message}${f.path && f.path !== '$' ? ` (change ${f.path})` : ''}`).join('; ');
      parts.push(`[${id}] ${problems}${title ? ` — required: ${title}` : ''}`);
    }
    return truncate(`fleetgate denied ${what}: ${[...byPolicy.keys()].length} ${byPolicy.size === 1 ? 'policy' : 'policies'} failed: ${[...byPolicy.keys()].join(', ')}. ${parts.join(' | ')}`, MAX_MESSAGE_LENGTH);
  }

  /** One log line per denied, warned, audited or failed review (identifiers and policy ids only). */
  private account(req: ParsedRequest, verdict: Verdict): void {
    if (!verdict.findings.length && !verdict.failure) return; // the common case: nothing found, nothing to count or log
    const byAction: Record<'deny' | 'warn' | 'audit' | 'error', Set<string>> = { deny: new Set(), warn: new Set(), audit: new Set(), error: new Set() };
    for (const f of verdict.findings) byAction[f.error ? 'error' : f.action].add(f.policy);
    const denied = verdict.response.allowed === false;
    if (!denied && !verdict.response.warnings && !byAction.audit.size && !byAction.error.size && !verdict.failure) return;
    const line = {
      uid: ident(req.uid),
      operation: req.operation,
      kind: ident(req.kind),
      namespace: ident(req.namespace),
      name: ident(req.name),
      user: ident(req.user),
      dryRun: req.dryRun,
      decision: denied ? 'denied' : 'allowed',
      deny: [...byAction.deny],
      warn: [...byAction.warn],
      audit: [...byAction.audit],
      failed: [...byAction.error],
      // What the failed policies threw, with their file:line (operators only: the client gets the generic text).
      failedDetail: byAction.error.size ? verdict.findings.filter((f) => f.error).map((f) => `[${f.policy}] ${truncate(f.message, 300)}`) : undefined,
      failure: verdict.failure,
      failureDetail: verdict.failureDetail,
      failurePolicy: verdict.failure || byAction.error.size ? this.o.settings.failurePolicy : undefined,
    };
    const msg = denied ? 'admission denied' : verdict.response.warnings ? 'admission allowed with warnings' : 'admission allowed (audit)';
    if (verdict.failure || byAction.error.size) this.o.logger.error(line, msg);
    else if (denied || verdict.response.warnings) this.o.logger.warn(line, msg);
    else this.o.logger.info(line, msg);
  }
}

/**
 * What an API client is told about a policy that threw: its id (next to this) and no more. The thrown text is the
 * policy's own and may carry file paths, internal state or data; operators have the failing ids in the log line
 * and the fleetgate_policy_evaluation_errors_total metric, and `fleetgate lint`/`test` show the text with file:line.
 */
const POLICY_ERROR = 'could not be evaluated (the policy failed; details are in the webhook log)';

/** An evaluator failure (worker died, …) for a client: one bounded line, with file system paths taken out. */
function errorText(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err)).split(process.cwd()).join('.');
  return truncate(text.replace(/(?:file:\/\/)?\/[^\s'"():]+/g, '<path>'), 300);
}

function boundWarnings(ws: string[]): string[] {
  const out = ws.slice(0, MAX_WARNINGS).map((w) => truncate(w, MAX_WARNING_LENGTH));
  if (ws.length > MAX_WARNINGS) out.push(`… and ${ws.length - MAX_WARNINGS} more warnings from fleetgate`);
  return out;
}
