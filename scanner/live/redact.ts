import type { KubeObject } from '../../src/index.js';

/** What replaces a Secret's values in the objects the reader returns. */
export const REDACTED = '[redacted by fleetgate]';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Replace every value of a Secret's `data` / `stringData` with {@link REDACTED} (keys stay, so policies can still
 * see which keys exist), and the `last-applied-configuration` annotation, which holds the whole Secret as applied.
 * Returns the same object, changed in place.
 */
export function redactSecret(obj: KubeObject): KubeObject {
  for (const field of ['data', 'stringData'] as const) {
    const values = obj[field];
    if (values && typeof values === 'object' && !Array.isArray(values)) {
      for (const k of Object.keys(values)) (values as Record<string, unknown>)[k] = REDACTED;
    }
  }
  const ann = obj.metadata?.annotations;
  if (ann && typeof ann === 'object' && LAST_APPLIED in ann) ann[LAST_APPLIED] = REDACTED;
  return obj;
}

/**
 * Removes known secret strings (tokens, passwords, key material) from a text meant for humans.
 * A second line of defence: messages are built without header values in the first place.
 */
export class Scrubber {
  private readonly secrets: string[] = [];

  add(value: string | Buffer | undefined | null): void {
    if (value == null) return;
    const s = Buffer.isBuffer(value) ? value.toString('utf8') : value;
    if (s.length < 6) return; // too short to scrub without mangling ordinary words
    this.secrets.push(s);
    // PEM material: also each long base64 line of it, in case a fragment ends up somewhere
    for (const line of s.split(/\r?\n/)) if (line.length >= 24 && !line.startsWith('-----')) this.secrets.push(line);
    if (Buffer.isBuffer(value) || /BEGIN/.test(s)) this.secrets.push(Buffer.from(s).toString('base64'));
    this.secrets.sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
    return out
      .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]')
      .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[redacted private key]');
  }
}
