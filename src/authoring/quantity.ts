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

/**
 * Whether parseQuantity would accept the input, without building the number. Policies on the admission hot path
 * only validate, so this is a plain character scan (same grammar as QUANTITY; the tests hold the two together).
 */
export function isQuantity(input: unknown): boolean {
  if (typeof input === 'number') return Number.isFinite(input);
  if (typeof input !== 'string') return false;
  const n = input.length;
  if (n === 0) return false;
  // Surrounding whitespace is rare: let the regular expression deal with it.
  if (input.charCodeAt(0) <= 32 || input.charCodeAt(n - 1) <= 32 || input.charCodeAt(0) > 126 || input.charCodeAt(n - 1) > 126)
    return QUANTITY.test(input.trim());
  let i = 0;
  let c = input.charCodeAt(0);
  if (c === 43 || c === 45) i++; // + -
  const intStart = i;
  while (i < n && isDigit(input.charCodeAt(i))) i++;
  let digits = i - intStart;
  if (i < n && input.charCodeAt(i) === 46) {
    // .
    const fracStart = ++i;
    while (i < n && isDigit(input.charCodeAt(i))) i++;
    digits += i - fracStart;
  }
  if (digits === 0) return false;
  const rest = n - i;
  if (rest === 0) return true;
  c = input.charCodeAt(i);
  if (rest === 1) return DECIMAL_SUFFIXES.includes(input[i]);
  if (rest === 2 && input.charCodeAt(i + 1) === 105) return BINARY_PREFIXES.includes(input[i]); // Ki Mi Gi Ti Pi Ei
  if (c !== 101 && c !== 69) return false; // exponent: e or E, an optional sign, digits
  i++;
  c = input.charCodeAt(i);
  if (c === 43 || c === 45) i++;
  if (i >= n) return false;
  while (i < n) if (!isDigit(input.charCodeAt(i++))) return false;
  return true;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
// Plain strings, not sets: a set lookup hashes, and on the admission path its table is rarely in cache.
const DECIMAL_SUFFIXES = 'numkMGTPE';
const BINARY_PREFIXES = 'KMGTPE';

/** -1, 0 or 1, like a comparator. Small relative tolerance absorbs binary floating-point noise (`0.1` vs `100m`). */
export function compareQuantities(a: string | number, b: string | number): number {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  const tolerance = Math.max(Math.abs(x), Math.abs(y)) * 1e-12;
  if (Math.abs(x - y) <= tolerance) return 0;
  return x < y ? -1 : 1;
}
