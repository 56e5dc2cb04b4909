import { relative, sep } from 'node:path';
import type { Policy } from '../authoring/index.js';
import { describeRef } from '../model/index.js';
import type { Action, Finding, Severity } from '../model/index.js';
import type { LintReport } from './summary.js';
import { ITEMS, jsonChunks } from './stream.js';
import { clusterList, groupAcrossClusters } from './fleet.js';

/**
 * SARIF 2.1.0 as GitHub code scanning accepts it: one rule per policy, one result per finding with a physical
 * location relative to the repository root (`%SRCROOT%`), `security-severity` so GitHub ranks them.
 */

const LEVEL: Record<Action, 'error' | 'warning' | 'note'> = { deny: 'error', warn: 'warning', audit: 'note' };
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0' };

function uri(file: string, root: string): string {
  const rel = relative(root, file);
  return (rel.startsWith('..') ? file : rel).split(sep).join('/');
}

export function formatSarif(report: LintReport, policies: readonly Policy[], version: string, root = process.cwd()): string {
  return [...sarifChunks(report, policies, version, root)].join('');
}

/**
 * `formatSarif` in pieces: each result is made and written on its own (for `emitChunks`). `findings` (default:
 * the report's) is read twice, and may make its findings one at a time (lint's FindingStore).
 */
export function sarifChunks(report: LintReport, policies: readonly Policy[], version: string, root = process.cwd(), findings: Iterable<Finding> = report.findings): Iterable<string> {
  const used = new Set<string>();
  let clustered = false;
  for (const f of findings) {
    used.add(f.policy);
    clustered ||= f.cluster !== undefined;
  }
  const byId = new Map(policies.map((p) => [p.id, p]));
  const ruleIndex = new Map([...used].map((id, i) => [id, i]));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'fleetgate', version, informationUri: 'https://github.com/fleetgate/fleetgate', rules: [...used].map((id) => rule(id, byId.get(id))) } },
        originalUriBaseIds: { '%SRCROOT%': { uri: `file://${root.split(sep).join('/')}/` } },
        invocations: [
          {
            executionSuccessful: report.errors.length === 0,
            toolExecutionNotifications: report.errors.map((e) => ({
              level: 'error',
              message: { text: e.message },
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: { uri: uri(e.file, root), uriBaseId: '%SRCROOT%' },
                    region: { startLine: e.line ?? 1, startColumn: e.column ?? 1 },
                  },
                },
              ],
            })),
          },
        ],
        results: ITEMS,
      },
    ],
  };
  // lint --fleet: a finding of one manifest on many clusters is one result (one alert) naming the clusters.
  // plain lint has no clusters: its findings stream through one at a time
  const groups = clustered ? groupAcrossClusters([...findings]) : mapped(findings, (finding) => ({ finding, clusters: [] as string[] }));
  return jsonChunks(sarif, groups, ({ finding: f, clusters }) => result(f, ruleIndex.get(f.policy), root, clusters));
}

function* mapped<T, U>(items: Iterable<T>, map: (item: T) => U): Generator<U> {
  for (const item of items) yield map(item);
}

/** The rule of a policy that has findings (a finding of an unknown policy gets a rule named by its id). */
function rule(id: string, p: Policy | undefined) {
  return {
    id,
    name: id,
    shortDescription: { text: p?.title ?? id },
    fullDescription: { text: p?.description ?? p?.title ?? id },
    helpUri: 'https://github.com/fleetgate/fleetgate#built-in-policies',
    help: { text: p?.description ?? p?.title ?? id },
    defaultConfiguration: { level: LEVEL[p?.action ?? 'warn'] },
    properties: { tags: ['kubernetes', p?.area ?? 'fleetgate'], 'security-severity': SECURITY_SEVERITY[p?.severity ?? 'medium'] },
  };
}

/** One finding as a result: where it is in the file and on the object, and a fingerprint stable across runs. */
function result(f: Finding, ruleIndex: number | undefined, root: string, clusters: readonly string[] = []) {
  const logical = { fullyQualifiedName: describeRef(f.resource), kind: 'resource' };
  return {
    ruleId: f.policy,
    ruleIndex,
    level: LEVEL[f.action],
    message: { text: `${f.message} (${describeRef(f.resource)}, ${f.path}${clusters.length ? `; on ${clusterList(clusters)}` : ''})` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: uri(f.source?.file ?? 'stdin', root), uriBaseId: '%SRCROOT%' },
          region: { startLine: f.source?.line ?? 1, startColumn: f.source?.column ?? 1 },
        },
        logicalLocations: [logical],
      },
    ],
    partialFingerprints: { 'fleetgate/v1': `${f.policy}|${describeRef(f.resource)}|${f.path}` },
    properties: { severity: f.severity, action: f.action, path: f.path, ...(clusters.length ? { clusters: [...clusters] } : {}) },
  };
}
