/**
 * The first code that runs in a fresh policy isolate, before any policy file: it freezes every intrinsic (so no
 * policy can pollute `Object.prototype`, patch `JSON` or plant state on the global object for another to find),
 * then evaluates the shared fleetgate runtime (`runtime`: the bundle of src/engine/sandbox/runtime.ts) and freezes
 * everything reachable from it — the authoring API every file imports as `fleetgate`, its classes, prototypes and
 * constants — so that no file can patch the code that judges another file's policies. It returns the dispatcher
 * the host drives, reachable only through the host's reference to it, never from a global: policy code cannot
 * call it, register a file or forge another file's findings.
 *
 * `bootstrap` is serialised with Function.prototype.toString and evaluated inside the isolate: it must not refer
 * to anything outside its own body.
 */
export function bootstrap(progressBuffer: SharedArrayBuffer, runtime: () => unknown) {
  /**
   * [file, resource, policy-in-file, job-in-batch] of what runs now (int32, little-endian); the host reads it after
   * stopping the isolate. Written through a DataView: once the intrinsics are frozen, a store into a typed array's
   * element goes through V8's slow path (~37 ns against ~1 ns for DataView.setInt32, several per policy run).
   */
  const progress = new DataView(progressBuffer);

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

  // The shared runtime, evaluated once the intrinsics are frozen, and frozen itself before any user file runs.
  const rt = runtime() as { api: unknown; createDispatcher: (p: DataView, api: unknown) => unknown };
  // The API object's members are getters (a bundled module namespace): freeze what they return, too.
  freezeAll([rt, rt.api, rt.createDispatcher, ...Object.values(rt.api as object)]);
  return rt.createDispatcher(progress, rt.api);
}
