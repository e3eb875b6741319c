// The data directory holds the database and the API key's hash: only the server's own user may
// read it. Directories are made 0700 and files 0600 by an explicit chmod, because the mode given
// at creation is cut by the umask and a umask may be anything (022 leaves 0755 and 0644).

import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and missing parents) 0700. A directory that exists already is the operator's
 * choice and keeps its mode (think of CIPHERDEX_DATA_DIR=/srv/shared); the files in it are 0600.
 */
export function ensurePrivateDir(dir: string): void {
  dir = resolve(dir);
  const first = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  // Every directory from the first one created down to `dir` is new.
  for (let created = dir; ; created = dirname(created)) {
    chmodSync(created, PRIVATE_DIR_MODE);
    if (created === first || dirname(created) === created) break;
  }
}

/**
 * Creates `file` empty if it is missing, and makes it 0600. SQLite gives its -wal and -shm files
 * the mode of the database file whatever the umask, so a database created this way keeps all
 * three private.
 */
export function ensurePrivateFile(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  chmodSync(file, PRIVATE_FILE_MODE);
}
