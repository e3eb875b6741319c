// `cipherdex serve` in a child process on a free port, resolved once it prints where it listens:
// the real server as an operator starts it, for tests and benchmarks that run several of them.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  exited: Promise<void>;
}

/** `prefix` runs the server under another command, e.g. `['taskset', '-c', '0']`. */
export async function startServeProcess(label: string, env: Record<string, string>, prefix: string[] = []): Promise<ServeProcess> {
  const [command, ...args] = [...prefix, process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'serve'];
  const child = spawn(command!, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(match[1]!);
      }
    }, 20);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`${label} exited before listening:\n${output}`));
    });
  });
  return { url, child, output: () => output, exited };
}
