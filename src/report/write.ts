import { rename, writeFile, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes a report atomically (temp file in the same folder, then rename), so an interrupted run leaves no half file. */
export async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(tmp, content);
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Report to --output (atomically) or stdout. */
export async function emit(content: string, output: string | undefined): Promise<void> {
  if (output) await writeAtomic(output, content);
  else
    await new Promise<void>((resolve, reject) =>
      process.stdout.write(content, (err) => (err ? reject(err) : resolve())),
    );
}
