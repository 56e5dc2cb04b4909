import t from 'tap';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { openOutput } from '../../scanner/output.js';

/**
 * The streamed report's output (scanner/output.ts): texts and bytes go out in the order written, in chunks with one
 * chunk in flight while the next is gathered; a failed write is seen by the writer, never lost or left unhandled.
 */

/** Texts and bytes (some views into larger buffers) of ~5 MiB in all: several chunks. */
function parts(): (string | Uint8Array)[] {
  const out: (string | Uint8Array)[] = [];
  for (let i = 0; i < 400; i++) {
    out.push(`,\n    #${i} `);
    const big = Buffer.alloc(13_000 + i, 97 + (i % 26));
    out.push(i % 2 ? big : new Uint8Array(big.buffer, big.byteOffset + 1, big.length - 2));
  }
  return out;
}

function expected(list: (string | Uint8Array)[]): Buffer {
  return Buffer.concat(list.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
}

t.test('a file gets every part in order, and only once it is done', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fg-output-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'report.json');
  const out = await openOutput(file);
  const list = parts();
  for (const p of list) await out.write(p);
  t.same(await readdir(dir).then((names) => names.includes('report.json')), false, 'nothing in place before done');
  await out.done();
  t.ok((await readFile(file)).equals(expected(list)), 'the bytes written, in order');
  t.same(await readdir(dir), ['report.json'], 'no temporary file left');
});

t.test('a stream gets every part in order, with back-pressure', async (t) => {
  const got: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      got.push(Buffer.from(chunk));
      setTimeout(cb, 1); // a slow pipe
    },
  });
  const out = await openOutput(undefined, stream);
  const list = parts();
  for (const p of list) await out.write(p);
  await out.done();
  t.ok(Buffer.concat(got).equals(expected(list)));
});

t.test('a failed write reaches the writer (at the next chunk or at done), and nothing is left unhandled', async (t) => {
  let calls = 0;
  const stream = new Writable({
    write(_chunk, _enc, cb) {
      calls++;
      cb(calls === 2 ? new Error('EPIPE: the reader went away') : null);
    },
  });
  stream.on('error', () => undefined);
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => void process.off('unhandledRejection', onUnhandled));
  const out = await openOutput(undefined, stream);
  const failed = (async () => {
    for (const p of parts()) await out.write(p);
    await out.done();
  })();
  await t.rejects(failed, /EPIPE/);
  await new Promise((r) => setImmediate(r));
  t.same(unhandled, []);
});

t.test('abort drops what was gathered and removes the temporary file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fg-output-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = await openOutput(join(dir, 'report.json'));
  for (const p of parts()) await out.write(p);
  await out.abort();
  t.same(await readdir(dir), []);
});
