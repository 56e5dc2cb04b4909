#!/usr/bin/env node
// Lists functions longer than the house limit (60 lines) that do not say why.
// A function may be longer when the comment right above it starts a line with
// "Long:" and gives the reason (a protocol state machine read top to bottom, a
// table of cases, ...). Used by test/structure.test.ts; run it by hand with
// `node scripts/long-functions.mjs [--limit N] [paths...]`.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const DEFAULT_ROOTS = ['src', 'policies', 'webhook', 'scanner', 'watch', 'history', 'rollout', 'testkit', 'bench'];
const SKIP = new Set(['node_modules', 'dist', '.git', 'fixtures']);

export function listSources(roots, base = process.cwd()) {
  const files = [];
  const walk = (path) => {
    let stat;
    try { stat = statSync(path); } catch { return; }
    if (stat.isDirectory()) {
      for (const name of readdirSync(path).sort()) if (!SKIP.has(name)) walk(join(path, name));
    } else if (/\.(ts|mts)$/.test(path) && !path.endsWith('.d.ts')) {
      files.push(path);
    }
  };
  for (const root of roots) walk(join(base, root));
  return files;
}

function nameOf(node, sourceFile) {
  if (node.name) return node.name.getText(sourceFile);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(sourceFile);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(sourceFile);
  if (parent && ts.isPropertyDeclaration(parent)) return parent.name.getText(sourceFile);
  return '(anonymous)';
}

// The comment that explains a long function sits above the statement that
// holds it: the declaration itself, or the `const x = () => {}` around it.
function explained(node, text) {
  let holder = node;
  while (holder.parent && !ts.isSourceFile(holder.parent) && !ts.isBlock(holder.parent)
    && !ts.isClassLike(holder.parent) && !ts.isObjectLiteralExpression(holder.parent)) {
    holder = holder.parent;
    if (ts.isFunctionLike(holder)) break;
  }
  const ranges = ts.getLeadingCommentRanges(text, holder.getFullStart()) ?? [];
  return ranges.some((range) => /^\s*(\/\/|\/?\*+)\s*Long:/m.test(text.slice(range.pos, range.end)));
}

export function longFunctions(file, limit = 60) {
  const text = readFileSync(file, 'utf8');
  const sourceFile = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body && ts.isBlock(node.body)) {
      const start = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line;
      const end = sourceFile.getLineAndCharacterOfPosition(node.end).line;
      const lines = end - start + 1;
      if (lines > limit && !explained(node, text)) {
        found.push({ file, line: start + 1, name: nameOf(node, sourceFile), lines });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return found;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  let limit = 60;
  const limitAt = args.indexOf('--limit');
  if (limitAt >= 0) { limit = Number(args[limitAt + 1]); args.splice(limitAt, 2); }
  const files = listSources(args.length > 0 ? args : DEFAULT_ROOTS);
  const found = files.flatMap((file) => longFunctions(file, limit));
  for (const f of found) console.log(`${relative(process.cwd(), f.file)}:${f.line} ${f.name} (${f.lines} lines)`);
  process.exitCode = found.length > 0 ? 1 : 0;
}
