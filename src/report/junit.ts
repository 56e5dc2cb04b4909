import type { Policy } from '../authoring/index.js';
import { describeRef } from '../model/index.js';
import type { Finding } from '../model/index.js';
import type { LintReport } from './summary.js';

export function xmlEscape(s: string): string {
  // Characters XML 1.0 cannot carry at all are dropped; the rest are escaped.
  return s
    .replace(/[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * JUnit XML for CI systems: one testsuite per loaded policy, one failing testcase per resource with findings
 * (deny/warn → failure; audit findings are listed as system-out), and a passing case for a policy with none.
 * Input errors form a suite of their own, as errors.
 */
export function formatJunit(report: LintReport, policies: readonly Policy[]): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  const byPolicy = new Map<string, Finding[]>();
  for (const f of report.findings) {
    let list = byPolicy.get(f.policy);
    if (!list) byPolicy.set(f.policy, (list = []));
    list.push(f);
  }
  const ids = [...new Set([...policies.map((p) => p.id), ...byPolicy.keys()])];
  for (const id of ids) {
    const list = byPolicy.get(id) ?? [];
    const byResource = new Map<string, Finding[]>();
    for (const f of list) {
      const key = `${f.cluster ? `${f.cluster}: ` : ''}${describeRef(f.resource)}`;
      let l = byResource.get(key);
      if (!l) byResource.set(key, (l = []));
      l.push(f);
    }
    const cases: string[] = [];
    let suiteFailures = 0;
    for (const [resource, fs] of byResource) {
      const failing = fs.filter((f) => f.action !== 'audit');
      const text = fs
        .map((f) => `${f.source ? `${f.source.file}:${f.source.line}:${f.source.column} ` : ''}${f.path}: ${f.message} [${f.severity}, ${f.action}]`)
        .join('\n');
      if (failing.length) {
        suiteFailures++;
        cases.push(
          `    <testcase classname="${xmlEscape(id)}" name="${xmlEscape(resource)}"><failure type="${failing[0].severity}" message="${xmlEscape(failing[0].message)}">${xmlEscape(text)}</failure></testcase>`,
        );
      } else cases.push(`    <testcase classname="${xmlEscape(id)}" name="${xmlEscape(resource)}"><system-out>${xmlEscape(text)}</system-out></testcase>`);
    }
    if (!cases.length) cases.push(`    <testcase classname="${xmlEscape(id)}" name="no findings"/>`);
    tests += cases.length;
    failures += suiteFailures;
    suites.push(`  <testsuite name="${xmlEscape(id)}" tests="${cases.length}" failures="${suiteFailures}" errors="0">\n${cases.join('\n')}\n  </testsuite>`);
  }
  if (report.errors.length) {
    const cases = report.errors.map(
      (e) =>
        `    <testcase classname="fleetgate.input" name="${xmlEscape(`${e.file}${e.line ? `:${e.line}` : ''}`)}"><error message="${xmlEscape(e.message)}"/></testcase>`,
    );
    tests += cases.length;
    suites.push(`  <testsuite name="fleetgate.input" tests="${cases.length}" failures="0" errors="${cases.length}">\n${cases.join('\n')}\n  </testsuite>`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="fleetgate" tests="${tests}" failures="${failures}" errors="${report.errors.length}">\n${suites.join('\n')}\n</testsuites>\n`;
}
