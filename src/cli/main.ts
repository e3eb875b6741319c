// Entry point of the `cipherdex` command line: picks the command, runs it, turns errors into
// clear messages and the documented exit codes.

import { CliError, ExitCode } from './exit-codes.js';
import { importCommand, importHelp } from './commands/import.js';
import { keygen, keygenHelp } from './commands/keygen.js';
import { searchCommand, searchHelp } from './commands/search.js';
import { serve, serveHelp } from './commands/serve.js';
import { statusCommand, statusHelp } from './commands/status.js';
import { trainCommand, trainHelp } from './commands/train.js';

interface Command {
  summary: string;
  help: string;
  run(args: string[]): Promise<number> | number;
}

const commands: Record<string, Command> = {
  serve: { summary: 'start the server (what `npm start` runs)', help: serveHelp, run: serve },
  keygen: { summary: 'print a fresh 32-byte index key (base64)', help: keygenHelp, run: keygen },
  import: { summary: 'load a .jsonl, .fvecs or .npy file into an index (resumable)', help: importHelp, run: importCommand },
  train: { summary: 'train an index; --follow shows the run live', help: trainHelp, run: trainCommand },
  search: { summary: 'nearest neighbours of a vector or of every vector in a file', help: searchHelp, run: searchCommand },
  status: { summary: 'indexes and training queue, or one index in detail', help: statusHelp, run: statusCommand },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const list = Object.entries(commands)
    .map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`)
    .join('\n');
  return `Usage: cipherdex <command> [options]   (cipherdex <command> --help for details)

Commands:
${list}

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
    const command = topic === undefined ? undefined : commands[topic];
    console.log(command ? command.help : mainHelp());
    return ExitCode.OK;
  }
  const command = commands[name];
  if (!command) {
    console.error(`cipherdex: unknown command "${name}"\n\n${mainHelp()}`);
    return ExitCode.USAGE;
  }
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
