import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Large reports written piece by piece. `JSON.stringify(report, null, 2)` of 200,000 findings is one string of
 * ~120 MB (and SARIF builds a second tree of objects first); written as chunks, only one finding's text exists at
 * a time. The text is byte for byte what `JSON.stringify(value, null, 2) + '\n'` gives.
 */

/** Where `jsonChunks` puts the items in the skeleton. */
export const ITEMS: unique symbol = Symbol('fleetgate.items');
/**
 * Pieces are joined up to this size before a write: one syscall per finding would cost more than the JSON. Not
 * more: pieces waiting for their write outlive young-generation collections, and at 1 MiB they piled up in the
 * old generation (lint of 50,000 objects peaked 50 MiB higher while it wrote).
 */
const CHUNK = 1 << 16;

/**
 * `JSON.stringify(skeleton, null, 2) + '\n'` where the value at the place holding `ITEMS` is the array of
 * `map(item)` for every item, made one at a time.
 */
export function* jsonChunks<T>(skeleton: unknown, items: Iterable<T>, map: (item: T) => unknown = (x) => x): Generator<string> {
  let text: string;
  let mark: string;
  let at: number;
  do {
    // a text no input can contain, checked: the skeleton holds users' strings (file names, error messages)
    mark = JSON.stringify(`fleetgate:items:${Math.random().toString(36).slice(2)}`);
    const placeholder = mark.slice(1, -1);
    text = JSON.stringify(skeleton, (_k, v: unknown) => (v === ITEMS ? placeholder : v), 2) + '\n';
    at = text.indexOf(mark);
    if (at < 0) throw new Error('jsonChunks: the skeleton does not hold ITEMS');
  } while (text.indexOf(mark, at + 1) >= 0);
  const indent = text.slice(text.lastIndexOf('\n', at) + 1, at).replace(/\S.*$/, '');
  const head = text.slice(0, at);
  const tail = text.slice(at + mark.length);
  const inner = `${indent}  `;
  let first = true;
  for (const item of items) {
    // JSON.stringify turns an array element it cannot represent into null; so do we
    const one = JSON.stringify(map(item), null, 2) ?? 'null';
    yield (first ? head + '[\n' : ',\n') + inner + one.replaceAll('\n', `\n${inner}`);
    first = false;
  }
  yield first ? head + '[]' + tail : '\n' + indent + ']' + tail;
}

/** Joins small pieces into writes of about CHUNK characters. */
function* batched(pieces: Iterable<string>): Generator<string> {
  let buf: string[] = [];
  let size = 0;
  for (const p of pieces) {
    buf.push(p);
    size += p.length;
    if (size >= CHUNK) {
      yield buf.join('');
      buf = [];
      size = 0;
    }
  }
  if (buf.length) yield buf.join('');
}

/** Like `emit`, for a report made of pieces: to --output atomically (temp file, then rename) or to stdout. */
export async function emitChunks(pieces: Iterable<string>, output: string | undefined): Promise<void> {
  if (!output) {
    for (const chunk of batched(pieces)) {
      // wait for each write: the point is not to queue the whole report in the stream's buffer
      await new Promise<void>((resolve, reject) => process.stdout.write(chunk, (err) => (err ? reject(err) : resolve())));
    }
    return;
  }
  const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const handle = await open(tmp, 'w');
    try {
      for (const chunk of batched(pieces)) {
        const bytes = Buffer.from(chunk);
        for (let at = 0; at < bytes.length; ) at += (await handle.write(bytes, at)).bytesWritten;
      }
    } finally {
      await handle.close();
    }
    await rename(tmp, output);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
