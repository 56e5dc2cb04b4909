import { createRequire } from 'node:module';
import type { Command } from './command.js';

/** The installed fleetgate's version (package.json), the same as `fleetgate --version`. */
export function version(): string {
  return (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
}

export const command: Command = {
  summary: 'print the version',
  usage: 'Usage: fleetgate version\n\nPrints the version of this fleetgate installation (also: fleetgate --version).\n',
  async run() {
    process.stdout.write(`${version()}\n`);
    return 0;
  },
};
