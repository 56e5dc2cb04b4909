import { matchesGlob } from '../model/index.js';
import { valueProblem, type ParamSchema } from './params.js';

/**
 * Strictness for what authors and operators write: a key nobody reads is a mistake that silently changes meaning
 * (`match: { namespace: [...] }` would match every namespace), so unknown keys and undeclared parameters are
 * errors, with the nearest known name as a suggestion.
 */

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

/** ` (did you mean "x"?)` for the closest of `known` when it is close enough, else ''. */
export function didYouMean(word: string, known: Iterable<string>): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = distance(word, k);
    if (dist < bestD) (best = k), (bestD = dist);
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

/** Messages for the keys of `obj` that are not in `known`, each as `WHERE: unknown key "k" (did you mean …)`. */
export function unknownKeys(obj: unknown, known: readonly string[], where: string): string[] {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return [];
  return Object.keys(obj)
    .filter((k) => !known.includes(k))
    .map((k) => `${where}: unknown key "${k}"${didYouMean(k, known)}; known keys: ${known.join(', ')}`);
}

/** Parameters every policy may receive without declaring them (read by the engine itself). */
const ENGINE_PARAMETERS = new Set(['systemNamespaces']);

/**
 * Checks a `parameters` map (fleet.yaml, `--param`, the webhook config): a plain key must be declared by at least
 * one policy; a key that names policies (an id or a glob with a dot) holds that policy's parameters, each of which
 * the policy must declare; a value must fit the type a policy declares for it (params.ts). Returns one message per
 * problem, naming the policy and the parameter.
 */
export function undeclaredParameters(
  parameters: Record<string, unknown> | undefined,
  policies: readonly { id: string; params: Record<string, unknown>; paramSchemas?: Readonly<Record<string, ParamSchema>> }[],
  source: string,
): string[] {
  const out: string[] = [];
  const declared = new Set(policies.flatMap((p) => Object.keys(p.params)));
  // A declared type the value does not fit, for each policy that receives it (the engine checks again when binding).
  const typeCheck = (where: string, targets: typeof policies, name: string, value: unknown) => {
    const typed = targets.filter((p) => p.paramSchemas?.[name]);
    const wrong = typed.length ? valueProblem(typed[0].paramSchemas![name], value) : undefined;
    // one message, not one per policy: a pack (pss.*) declares the same parameter in each of its policies
    if (wrong) out.push(`${where}: policy ${typed[0].id}${typed.length > 1 ? ` (and ${typed.length - 1} more)` : ''}: parameter "${name}" ${wrong}`);
  };
  for (const [key, value] of Object.entries(parameters ?? {})) {
    const targets = key.includes('.') ? policies.filter((p) => p.id === key || matchesGlob(p.id, key)) : [];
    if (targets.length && value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [name, v] of Object.entries(value)) {
        if (ENGINE_PARAMETERS.has(name)) continue;
        typeCheck(`${source} ${key}:${name}`, targets, name, v);
        // a glob (`mesh.*`) is a broad selector: it sets the parameter for those of its policies that declare it
        if (key.includes('*')) continue;
        const own = Object.keys(targets[0].params);
        if (!own.includes(name))
          out.push(`${source} ${key}:${name}: policy ${targets[0].id} declares no parameter "${name}"${didYouMean(name, own)}${own.length ? `; its parameters: ${own.join(', ')}` : '; it has no parameters'}`);
      }
      continue;
    }
    if (key.includes('.') && !targets.length) {
      out.push(`${source} ${key}: no policy has the id "${key}"${didYouMean(key, policies.map((p) => p.id))}`);
      continue;
    }
    if (declared.has(key)) typeCheck(`${source} ${key}`, policies, key, value);
    else if (!ENGINE_PARAMETERS.has(key)) out.push(`${source} ${key}: no policy declares the parameter "${key}"${didYouMean(key, declared)}`);
  }
  return out;
}
