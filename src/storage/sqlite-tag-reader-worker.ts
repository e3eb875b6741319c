// The tag reader thread (sqlite-tag-reader.ts): lists item tags on a read-only connection of its
// own and moves each listing to the asking thread rather than copying it.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { itemTagsReader } from './sqlite-item-tags.js';
import { movableBuffers, serializeError } from './sqlite-writer-protocol.js';

const port = parentPort!;
const { file } = workerData as { file: string };
const read = itemTagsReader(new Database(file, { readonly: true, fileMustExist: true }));

port.on('message', ({ id, index }: { id: number; index: string }) => {
  try {
    const tags = read(index);
    port.postMessage({ id, ok: true, value: tags }, tags === null ? [] : movableBuffers([tags.tokens, tags.tags]));
  } catch (error) {
    port.postMessage({ id, ok: false, error: serializeError(error) });
  }
});
