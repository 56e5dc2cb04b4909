import { EXIT_USAGE, UsageError, type CommandEnv, type CommandLoader } from './command.js';

export const BUILTIN_COMMANDS: Record<string, CommandLoader> = {
  lint: async () => (await import('./lint.js')).command,
  test: async () => (await import('./test.js')).command,
  policies: async () => (await import('./policies.js')).command,
};

/** Commands in `--help` order, with the one-line summary each. */
const ORDER = ['lint', 'test', 'policies', 'serve', 'scan', 'rollout'];

export async function main(argv: string[], commands: Record<string, CommandLoader>, env: CommandEnv): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await overview(commands));
    return name ? 0 : EXIT_USAGE;
  }
  if (name === '--version' || name === '-v') {
    const { createRequire } = await import('node:module');
    process.stdout.write(`${createRequire(import.meta.url)('../../../package.json').version}\n`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`fleetgate: unknown command "${name}"\n\n${await overview(commands)}`);
    return EXIT_USAGE;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage.endsWith('\n') ? command.usage : `${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, env);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`fleetgate ${name}: ${(err as Error).message}\nRun "fleetgate ${name} --help" for usage.\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

async function overview(commands: Record<string, CommandLoader>): Promise<string> {
  const lines = ['fleetgate — policy-as-code compliance for fleets of Kubernetes clusters', '', 'Usage: fleetgate <command> [options]', '', 'Commands:'];
  const names = [...ORDER.filter((n) => commands[n]), ...Object.keys(commands).filter((n) => !ORDER.includes(n))];
  for (const n of names) {
    const summary = await commands[n]().then((c) => c.summary, () => '(not available in this build)');
    lines.push(`  ${n.padEnd(10)} ${summary}`);
  }
  lines.push('', 'Run "fleetgate <command> --help" for the options of a command.', '');
  return lines.join('\n');
}

