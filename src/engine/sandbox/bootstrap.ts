/**
 * The first code that runs in a fresh policy isolate, before any policy file: it freezes every intrinsic (so no
 * policy can pollute `Object.prototype`, patch `JSON` or plant state on the global object for another to find),
 * and returns the dispatcher the host drives. The dispatcher is reachable only through the host's reference to
 * it, never from a global, so policy code cannot call it, replace a guest or forge another file's findings.
 *
 * `bootstrap` is serialised with Function.prototype.toString and evaluated inside the isolate: it must not refer
 * to anything outside its own body.
 */
export function bootstrap(progressBuffer: SharedArrayBuffer) {
  /** [file, resource, policy-in-file] of what runs now; the host reads it after stopping the isolate. */
  const progress = new Int32Array(progressBuffer);
  type GuestLike = { meta(): unknown; run(job: unknown, progress: (r: number, p: number) => void): unknown } | null;
  const guests: GuestLike[] = [];
  const reporters: ((r: number, p: number) => void)[] = [];

  const g = globalThis as Record<string, unknown>;
  // No shared memory, no blocking waits, no Wasm compiler for policies (and the host's progress cell stays ours).
  for (const name of ['__progress', 'SharedArrayBuffer', 'Atomics', 'WebAssembly']) delete g[name];

  const seen = new Set<unknown>();
  const freezeAll = (roots: unknown[]) => {
    const stack = roots.slice();
    while (stack.length) {
      const o = stack.pop();
      if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o)) continue;
      seen.add(o);
      Object.freeze(o);
      stack.push(Object.getPrototypeOf(o));
      for (const key of Reflect.ownKeys(o as object)) {
        const d = Object.getOwnPropertyDescriptor(o, key);
        if (d) stack.push(d.value, d.get, d.set);
      }
    }
  };
  // Intrinsics not reachable by name from the global object.
  const hidden: unknown[] = [
    Object.getPrototypeOf(function* () {}),
    Object.getPrototypeOf(async function () {}),
    Object.getPrototypeOf(async function* () {}),
    Object.getPrototypeOf((function* () {})()),
    Object.getPrototypeOf((async function* () {})()),
    Object.getPrototypeOf([][Symbol.iterator]()),
    Object.getPrototypeOf(new Map()[Symbol.iterator]()),
    Object.getPrototypeOf(new Set()[Symbol.iterator]()),
    Object.getPrototypeOf(''[Symbol.iterator]()),
    Object.getPrototypeOf(''.matchAll(/x/g)),
    Object.getPrototypeOf(Int8Array),
    Object.getOwnPropertyDescriptor(Function.prototype, 'caller')?.get,
  ];
  freezeAll([globalThis, ...hidden]);

  const deepFreeze = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return;
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  };

  return {
    /** Registers a file's guest (null: the file did not load); returns its index. */
    add(guest: GuestLike): number {
      const i = guests.length;
      guests.push(guest);
      reporters.push((r, p) => {
        progress[1] = r;
        progress[2] = p;
      });
      return i;
    },
    meta(i: number): string | null {
      progress[0] = i;
      progress[1] = -1;
      progress[2] = -1;
      const guest = guests[i];
      const out = guest ? guest.meta() : null;
      return typeof out === 'string' ? out : null;
    },
    /**
     * Runs every guest (or only `onlyFile`) on the same frozen job (each policy sees an immutable view of the
     * objects). One line per file: its JSON, "!" when the file's code failed outside a policy's validate(), "-"
     * when it was not run. Afterwards progress says -2: a stop then came from a promise job a file queued.
     */
    run(jobJson: string, onlyFile = -1): string {
      const job = JSON.parse(jobJson);
      deepFreeze(job);
      const parts: string[] = [];
      for (let i = 0; i < guests.length; i++) {
        if (onlyFile >= 0 && i !== onlyFile) {
          parts.push('-');
          continue;
        }
        progress[0] = i;
        progress[1] = -1;
        progress[2] = -1;
        let out: unknown = '!';
        try {
          const guest = guests[i];
          out = guest ? guest.run(job, reporters[i]) : '!';
        } catch {
          out = '!';
        }
        parts.push(typeof out === 'string' && !out.includes('\n') ? out : '!');
      }
      progress[0] = -2;
      progress[1] = -1;
      progress[2] = -1;
      return parts.join('\n');
    },
  };
}

export type Dispatcher = ReturnType<typeof bootstrap>;
