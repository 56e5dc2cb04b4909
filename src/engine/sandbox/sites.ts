/**
 * Where in a policy file's bundle an error was thrown: the first stack frame in that bundle's script (line and
 * column as V8 prints them, 1-based, in the wrapped script). Used inside the isolate (guest.ts) and by the host for
 * errors at load; the host maps it to the source file with the bundle's source map.
 */
export type Site = [line: number, column: number];

export function siteIn(stack: string, script: string): Site | undefined {
  if (!stack || !script) return undefined;
  const at = `${script}:`;
  for (const line of stack.split('\n')) {
    const i = line.lastIndexOf(at);
    if (i < 0) continue;
    const m = /^(\d+):(\d+)/.exec(line.slice(i + at.length));
    if (m) return [Number(m[1]), Number(m[2])];
  }
  return undefined;
}
