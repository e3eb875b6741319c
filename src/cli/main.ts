// Entry point of the `cipherdex` command line: picks the command, runs it, turns errors into
// clear messages and the documented exit codes.

import { CliError, ExitCode } from './exit-codes.js';

interface Command {
  help: string;
  run(args: string[]): Promise<number> | number;
}

/** Commands load on demand, so `cipherdex keygen` never pays for graphql-ws and `search` never for the server. */
const commands: Record<string, { summary: string; load(): Promise<Command> }> = {
  serve: {
    summary: 'start the server (what `npm start` runs)',
    load: async () => import('./commands/serve.js').then((m) => ({ help: m.serveHelp, run: m.serve })),
  },
  keygen: {
    summary: 'print a fresh 32-byte index key (base64)',
    load: async () => import('./commands/keygen.js').then((m) => ({ help: m.keygenHelp, run: m.keygen })),
  },
  import: {
    summary: 'load a .jsonl, .fvecs or .npy file into an index (resumable)',
    load: async () => import('./commands/import.js').then((m) => ({ help: m.importHelp, run: m.importCommand })),
  },
  train: {
    summary: 'train an index; --follow shows the run live',
    load: async () => import('./commands/train.js').then((m) => ({ help: m.trainHelp, run: m.trainCommand })),
  },
  search: {
    summary: 'nearest neighbours of a vector or of every vector in a file',
    load: async () => import('./commands/search.js').then((m) => ({ help: m.searchHelp, run: m.searchCommand })),
  },
  'rotate-key': {
    summary: "move an index to a new key (the old one stops working everywhere)",
    load: async () => import('./commands/rotate-key.js').then((m) => ({ help: m.rotateKeyHelp, run: m.rotateKeyCommand })),
  },
  grant: {
    summary: 'create, list or revoke index grants (scoped, revocable tokens)',
    load: async () => import('./commands/grant.js').then((m) => ({ help: m.grantHelp, run: m.grantCommand })),
  },
  status: {
    summary: 'indexes and training queue, or one index in detail',
    load: async () => import('./commands/status.js').then((m) => ({ help: m.statusHelp, run: m.statusCommand })),
  },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const list = Object.entries(commands)
    .map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`)
    .join('\n');
  return `Usage: cipherdex <command> [options]   (cipherdex <command> --help for details)

Commands:
${list}

Client commands reach the server over its public GraphQL API (HTTP, and WebSockets for
train --follow), so they work against any replica. They read, unless flags say otherwise:
  CIPHERDEX_URL        GraphQL endpoint (default http://127.0.0.1:4000/graphql)
  CIPHERDEX_API_KEY    API key
  CIPHERDEX_INDEX_KEY  the index's 32-byte key (base64 or hex); never stored by the CLI

Exit codes:
    ${ExitCode.OK}  success
    ${ExitCode.USAGE}  usage error: bad flags or arguments, unreadable or malformed input file
    ${ExitCode.UNREACHABLE}  server unreachable, or the API key was refused (401)
    ${ExitCode.DOMAIN_ERROR}  the server answered with a typed error (wrong index key, unknown index, ...)
    ${ExitCode.TRAINING_FAILED}  a training run ended FAILED or CANCELLED
    ${ExitCode.SERVER_ERROR}  the server answered with an unexpected error
  ${ExitCode.INTERRUPTED}  interrupted (Ctrl-C); rerun an interrupted import to continue it`;
}

/** node:util parseArgs rejects unknown or malformed flags with these codes. */
function isParseArgsError(error: unknown): error is Error {
  const code: unknown = error instanceof Error ? Reflect.get(error, 'code') : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? args[0] : undefined;
    const entry = topic !== undefined && Object.hasOwn(commands, topic) ? commands[topic] : undefined;
    console.log(entry ? (await entry.load()).help : mainHelp());
    return ExitCode.OK;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    console.error(`cipherdex: unknown command "${name}"\n\n${mainHelp()}`);
    return ExitCode.USAGE;
  }
  const command = await entry.load();
  if (args.includes('--help') || args.includes('-h')) {
    console.log(command.help);
    return ExitCode.OK;
  }
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`cipherdex ${name}: ${error.message}`);
      return error.exitCode;
    }
    if (isParseArgsError(error)) {
      console.error(`cipherdex ${name}: ${error.message}\n\n${command.help}`);
      return ExitCode.USAGE;
    }
    console.error(`cipherdex ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return ExitCode.SERVER_ERROR;
  }
}

process.exitCode = await main(process.argv.slice(2));
