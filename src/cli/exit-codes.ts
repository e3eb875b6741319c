// Process exit codes of the cipherdex CLI and the error type that carries one to main().
// Scripts branch on these, so they are stable and listed in `cipherdex --help`.

export const ExitCode = {
  OK: 0,
  /** Bad flags or arguments, or an input file that cannot be read or parsed. */
  USAGE: 1,
  /** The server is unreachable, or refused the API key (HTTP 401 / WebSocket 4403). */
  UNREACHABLE: 2,
  /** The server answered with a typed domain error (wrong index key, unknown index, ...). */
  DOMAIN_ERROR: 3,
  /** A training run ended FAILED or CANCELLED. */
  TRAINING_FAILED: 4,
  /** The server answered with an unexpected (untyped) error. */
  SERVER_ERROR: 5,
  /** Stopped by Ctrl-C (SIGINT); an import keeps its checkpoint and resumes on the next run. */
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error whose message is meant for the user as is, with the exit code it ends the process with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    /** The server's machine code (e.g. INVALID_INDEX_KEY), when the error came from the API. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.USAGE);
}
