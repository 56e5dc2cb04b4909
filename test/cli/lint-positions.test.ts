import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';

/**
 * Positions come from a compact index made while each file is parsed (src/loading/source-map.ts), not from
 * parsed documents kept to the end: these tests lint several files where only some documents have findings, and
 * check every finding's file:line:column against the text, also next to a broken document.
 */

const configMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: shop\ndata:\n  level: info\n`;
const hostPod = (name: string, field: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  namespace: shop\nspec:\n  ${field}: true\n  containers:\n    - name: app\n      image: registry.example.com/app:1.0\n`;

interface Finding {
  policy: string;
  resource: { kind: string; name: string };
  path: string;
  source?: { file: string; line: number; column: number };
}

/** The 1-based line and column where `needle` starts in `text`, searching from the line of `after`. */
function where(text: string, after: string, needle: string): { line: number; column: number } {
  const from = text.indexOf(after);
  const at = text.indexOf(needle, from);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** The line range of the document that holds `name: NAME` (documents separated by `---`). */
function documentLines(text: string, name: string): [number, number] {
  let start = 1;
  const lines = text.split('\n');
  for (let i = 0; i <= lines.length; i++) {
    if (i === lines.length || lines[i] === '---') {
      if (lines.slice(start - 1, i).some((l) => l.trim() === `name: ${name}`)) return [start, i];
      start = i + 2;
    }
  }
  throw new Error(`no document named ${name}`);
}

t.test('several files, findings in only some documents: each finding points at its own file:line:column', async (t) => {
  const dir = await tempDir(t, 'fleetgate-positions-');
  const texts: Record<string, string> = {
    'a.yaml': [configMap('a1'), hostPod('pid', 'hostPID'), configMap('a3')].join('---\n'),
    'b.yaml': [configMap('b1'), configMap('b2'), configMap('b3'), hostPod('net', 'hostNetwork')].join('---\n'),
    'c.yaml': [configMap('c1'), configMap('c2')].join('---\n'),
  };
  for (const [name, text] of Object.entries(texts)) await writeFile(join(dir, name), text);
  const r = await runCli(['lint', dir, '--format', 'json']);
  t.equal(r.code, 1, r.stderr);
  const findings = (JSON.parse(r.stdout) as { findings: Finding[] }).findings;
  t.ok(findings.length > 2);
  const host = findings.filter((f) => f.policy === 'isolation.no-host-namespaces');
  t.same(
    host.map((f) => [f.resource.name, f.path, f.source]),
    [
      ['pid', '$.spec.hostPID', { file: join(dir, 'a.yaml'), ...where(texts['a.yaml'], 'name: pid', 'hostPID') }],
      ['net', '$.spec.hostNetwork', { file: join(dir, 'b.yaml'), ...where(texts['b.yaml'], 'name: net', 'hostNetwork') }],
    ],
  );
  t.same(host.map((f) => [f.source?.line, f.source?.column]), [[15, 3], [31, 3]], 'the positions, written out');
  t.notOk(findings.some((f) => f.source?.file === join(dir, 'c.yaml')), 'a file without findings has none');
  for (const f of findings) {
    const file = f.source!.file.slice(dir.length + 1);
    const [from, to] = documentLines(texts[file], f.resource.name);
    t.ok(f.source!.line >= from && f.source!.line <= to, `${f.policy} on ${f.resource.name}: line ${f.source!.line} is inside its document (${from}-${to})`);
  }
});

t.test('a broken document is reported with file:line; the documents after it and the other files are still linted and located', async (t) => {
  const dir = await tempDir(t, 'fleetgate-positions-');
  const broken = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata: {a: [1, 2}\n';
  const a = [configMap('a1'), broken, hostPod('after', 'hostIPC')].join('---\n');
  const b = hostPod('other', 'hostPID');
  await writeFile(join(dir, 'a.yaml'), a);
  await writeFile(join(dir, 'b.yaml'), b);
  const r = await runCli(['lint', dir, '--format', 'json']);
  t.equal(r.code, 2, 'an unusable document makes the run exit 2');
  const report = JSON.parse(r.stdout) as { findings: Finding[]; errors: { file: string; line?: number; message: string }[] };
  t.match(report.errors, [{ file: join(dir, 'a.yaml'), line: 13, message: /document starting at line 9 skipped/ }]);
  const host = report.findings.filter((f) => f.policy === 'isolation.no-host-namespaces');
  t.same(
    host.map((f) => f.source),
    [
      { file: join(dir, 'a.yaml'), ...where(a, 'name: after', 'hostIPC') },
      { file: join(dir, 'b.yaml'), ...where(b, 'name: other', 'hostPID') },
    ],
  );
  t.same(await readFile(join(dir, 'a.yaml'), 'utf8'), a, 'the input is untouched');
});
