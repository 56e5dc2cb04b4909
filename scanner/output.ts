import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Where a streamed report goes: `--output FILE` (written to a temporary file beside it and renamed over it at the
 * end, so an interrupted run leaves no half report and the previous report stays) or standard output (with
 * back-pressure: a slow pipe slows the writer instead of buffering the report in memory).
 */
export interface Output {
  /** Text, or bytes already encoded in UTF-8 (a spooled cluster's JSON, scanner/record.ts). */
  write(text: string | Uint8Array): Promise<void>;
  /** Flushes and, for a file, puts it in place. */
  done(): Promise<void>;
  /** Drops what was written (a file's temporary copy is removed; the previous report stays). */
  abort(): Promise<void>;
}

/** Writes go out in chunks of about this many characters or bytes (one write call per report line would cost syscalls). */
const CHUNK = 1 << 20;

export async function openOutput(file: string | undefined, stream: NodeJS.WritableStream = process.stdout): Promise<Output> {
  return file ? fileOutput(file) : streamOutput(stream);
}

/**
 * Texts (and bytes) gathered into chunks of about CHUNK; `send` writes one chunk's parts. One chunk is in flight
 * while the next is gathered: the writer waits only when a second chunk is ready before the first is out, so
 * making the report (CPU) and writing it (the disk or the pipe) overlap, and at most two chunks are held.
 */
function chunked(send: (parts: Buffer[]) => Promise<void>) {
  let buffered: Buffer[] = [];
  /** Texts since the last bytes, joined into one part when bytes come or the chunk goes (many small texts, one part). */
  let texts: string[] = [];
  let size = 0;
  let inFlight: Promise<void> | undefined;
  const settle = async () => {
    const pending = inFlight;
    inFlight = undefined;
    await pending;
  };
  const joinTexts = () => {
    if (!texts.length) return;
    buffered.push(Buffer.from(texts.join('')));
    texts = [];
  };
  const push = async () => {
    if (!size) return;
    joinTexts();
    const parts = buffered;
    buffered = [];
    size = 0;
    await settle();
    const sending = send(parts);
    sending.catch(() => undefined); // awaited by the next push or flush, which sees the error
    inFlight = sending;
  };
  return {
    async write(text: string | Uint8Array) {
      if (typeof text === 'string') texts.push(text);
      else {
        joinTexts();
        buffered.push(Buffer.from(text.buffer, text.byteOffset, text.byteLength));
      }
      size += text.length;
      if (size >= CHUNK) await push();
    },
    /** Everything written so far is out. */
    async flush() {
      await push();
      await settle();
    },
    async drop() {
      buffered = [];
      texts = [];
      size = 0;
      await settle().catch(() => undefined);
    },
  };
}

function streamOutput(stream: NodeJS.WritableStream): Output {
  const chunks = chunked(
    (parts) =>
      new Promise<void>((resolve, reject) => {
        stream.write(parts.length === 1 ? parts[0] : Buffer.concat(parts), (err) => (err ? reject(err) : resolve()));
      }),
  );
  return {
    write: chunks.write,
    done: chunks.flush,
    abort: chunks.drop,
  };
}

async function fileOutput(file: string): Promise<Output> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const handle: FileHandle = await open(tmp, 'w');
  const chunks = chunked(async (parts) => {
    // one writev of the parts as they are (no copy into one buffer); a short write (rare on a file) finishes plainly
    const total = parts.reduce((n, p) => n + p.length, 0);
    const { bytesWritten } = await handle.writev(parts);
    if (bytesWritten < total) await handle.writeFile(Buffer.concat(parts).subarray(bytesWritten));
  });
  return {
    write: chunks.write,
    async done() {
      try {
        await chunks.flush();
        await handle.close();
        await rename(tmp, file);
      } catch (err) {
        await handle.close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
    },
    async abort() {
      await chunks.drop();
      await handle.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
    },
  };
}
