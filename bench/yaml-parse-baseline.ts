import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** The baseline of the lint benchmark: read every file and turn every YAML document into plain objects. Nothing else. */
const dir = process.argv[2];
let objects = 0;
for (const name of (await readdir(dir)).sort()) {
  const text = await readFile(join(dir, name), 'utf8');
  for (const doc of parseAllDocuments(text)) if (doc.toJS()) objects++;
}
process.stdout.write(`${objects}\n`);
