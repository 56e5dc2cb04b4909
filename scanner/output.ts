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

/** Texts (and bytes) gathered into chunks of CHUNK characters; `send` writes one chunk. */
function chunked(send: (text: string | Uint8Array) => Promise<void>) {
  let buffered: (string | Uint8Array)[] = [];
  let size = 0;
  let bytes = false;
  const flush = async () => {
    if (!size) return;
    const text = bytes ? Buffer.concat(buffered.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))) : (buffered as string[]).join('');
    buffered = [];
    size = 0;
    bytes = false;
    await send(text);
  };
  return {
    async write(text: string | Uint8Array) {
      if (typeof text !== 'string') bytes = true;
      buffered.push(text);
      size += text.length;
      if (size >= CHUNK) await flush();
    },
    flush,
    drop() {
      buffered = [];
      size = 0;
      bytes = false;
    },
  };
}

function streamOutput(stream: NodeJS.WritableStream): Output {
  const chunks = chunked(
    (text) =>
      new Promise<void>((resolve, reject) => {
        stream.write(text, (err) => (err ? reject(err) : resolve()));
      }),
  );
  return {
    write: chunks.write,
    done: chunks.flush,
    async abort() {
      chunks.drop();
    },
  };
}

async function fileOutput(file: string): Promise<Output> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const handle: FileHandle = await open(tmp, 'w');
  const chunks = chunked((text) => handle.writeFile(text));
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
      chunks.drop();
      await handle.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
    },
  };
}
