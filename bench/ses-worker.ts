// SES inside a worker thread (bench/isolation.ts): lockdown() freezes the worker's intrinsics, each policy set is
// evaluated in a Compartment with no endowments; every review is one postMessage round trip.
import 'ses';
import { parentPort, workerData } from 'node:worker_threads';

declare const lockdown: (opts?: object) => void;
declare const Compartment: new (endowments?: object) => { evaluate(src: string): unknown };

lockdown({ errorTaming: 'unsafe', consoleTaming: 'unsafe', overrideTaming: 'min' });
const c = new Compartment({});
const run = c.evaluate(workerData.source as string) as (json: string) => string;
const probes = c.evaluate(`({ process: typeof process, require: typeof require, fetch: typeof fetch, frozen: Object.isFrozen(Object.prototype) })`);
parentPort!.postMessage({ ready: true, probes });
parentPort!.on('message', (m: { id: number; json: string }) => parentPort!.postMessage({ id: m.id, out: run(m.json) }));
