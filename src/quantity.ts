/**
 * Kubernetes resource quantities (`500m`, `2Gi`, `1e3`, `1.5`, `128974848`) as plain numbers in base units.
 * Doubles are exact enough for what policies do with quantities (compare against maxima); parsing follows
 * apimachinery's grammar: a signed decimal number, then either a binary suffix, a decimal suffix or an exponent.
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

export class QuantityError extends Error {
  override name = 'QuantityError';
}

/** Parses a quantity into base units (cores, bytes, count). Throws QuantityError on anything else. */
export function parseQuantity(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new QuantityError(`quantity ${input} is not finite`);
    return input;
  }
  if (typeof input !== 'string') throw new QuantityError(`quantity must be a string or number, got ${typeof input}`);
  const m = QUANTITY.exec(input.trim());
  if (!m) throw new QuantityError(`"${input}" is not a Kubernetes quantity`);
  const base = Number(m[1]);
  if (m[2]) return base * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? '';
  return base * (BINARY[suffix] ?? DECIMAL[suffix]);
}

/** Like parseQuantity, but undefined instead of throwing: for policies judging user input. */
export function tryParseQuantity(input: unknown): number | undefined {
  if (typeof input !== 'string' && typeof input !== 'number') return undefined;
  try {
    return parseQuantity(input);
  } catch {
    return undefined;
  }
}

/** Whether parseQuantity would accept the input (without building the number: policies on the hot path only validate). */
export function isQuantity(input: unknown): boolean {
  if (typeof input === 'number') return Number.isFinite(input);
  if (typeof input !== 'string') return false;
  // Manifests repeat a handful of quantities (100m, 128Mi, 1Gi): remember the answers for short strings, within a bound.
  if (input.length > 32) return QUANTITY.test(input.trim());
  let valid = validity.get(input);
  if (valid === undefined) {
    valid = QUANTITY.test(input.trim());
    if (validity.size >= 1000) validity.clear();
    validity.set(input, valid);
  }
  return valid;
}

const validity = new Map<string, boolean>();

/** -1, 0 or 1, like a comparator. Small relative tolerance absorbs binary floating-point noise (`0.1` vs `100m`). */
export function compareQuantities(a: string | number, b: string | number): number {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  const tolerance = Math.max(Math.abs(x), Math.abs(y)) * 1e-12;
  if (Math.abs(x - y) <= tolerance) return 0;
  return x < y ? -1 : 1;
}
