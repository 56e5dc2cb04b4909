import type { KubeObject } from '../../src/index.js';

/**
 * The one redaction path of the scanner: every object it reads — from a live cluster (list.ts) or a snapshot folder
 * (scan.ts readSnapshot) — goes through {@link redactIfSecret} before anything else sees it, and every text meant
 * for a report or a log (errors, warnings) through {@link redactText} (plus a {@link Scrubber} of the credentials
 * known to be in play).
 */

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

/** {@link redactSecret} for a core/v1 Secret; any other object is returned as it is. */
export function redactIfSecret(obj: KubeObject): KubeObject {
  if (obj.kind === 'Secret' && (obj.apiVersion === 'v1' || obj.apiVersion === undefined)) redactSecret(obj);
  return obj;
}

/**
 * Masks credential-shaped text a message may carry whatever produced it: bearer/basic headers, `token: …` /
 * `password=…` pairs, JWTs, PEM private keys.
 */
export function redactText(text: string): string {
  return text
    .replace(/\b(Bearer|Basic)\s+(?!\[redacted\])[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]')
    // lowercase keys as kubeconfigs and JSON write them (not the kind "Secret: forbidden …" in a warning)
    .replace(/(\b(?:token|password|secret|client-key-data|client-certificate-data|authorization)["']?\s*[:=]\s*["']?)(?!\[redacted\]|Bearer|Basic)[^\s"',}]+/g, '$1[redacted]')
    .replace(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+/g, '[redacted jwt]')
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[redacted private key]');
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
    return redactText(out);
  }
}
