// The history of an index's training runs, kept in the store as sealed records so it survives
// restarts: every run queued here is recorded when it ends (COMPLETED, FAILED or CANCELLED), and
// listed newest first in pages, or found by its id (the activeRunId of a TrainingInProgressError).

import type { Store } from '../../storage/index.js';
import { TrainingRunNotFoundError, ValidationError } from '../errors.js';
import { translatingErrors } from '../lower-layer-errors.js';
import type { OpenIndex } from '../open/open-index.js';
import { openTrainingRun, sealTrainingRun, trainingRunToken } from '../records/training-run-record.js';
import type { TrainingRun, TrainingRunPage } from '../types.js';

export const DEFAULT_RUNS_PAGE = 20;
export const MAX_RUNS_PAGE = 100;
const CURSOR_PREFIX = 'run:';

/** Records `run` (ended) in the history of `open`'s index. */
export async function recordTrainingRun(store: Store, open: OpenIndex, run: TrainingRun): Promise<void> {
  const { token, sealed } = sealTrainingRun(open.cipher, open.name, run);
  await translatingErrors(open.name, () => store.putTrainingRun(open.name, token, sealed), 'training run history');
}

/** Newest first: `first` runs (default 20, at most 100) after the cursor `after` of an earlier page. */
export async function listTrainingRuns(store: Store, open: OpenIndex, first: number | null | undefined, after: string | null | undefined): Promise<TrainingRunPage> {
  const limit = first ?? DEFAULT_RUNS_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RUNS_PAGE) {
    throw new ValidationError('first', `first must be an integer from 1 to ${MAX_RUNS_PAGE}`, { min: 1, max: MAX_RUNS_PAGE });
  }
  const before = after === null || after === undefined ? undefined : seqOfCursor(after);
  const stored = await translatingErrors(open.name, () => store.listTrainingRuns(open.name, limit + 1, before), 'training run history');
  const page = stored.slice(0, limit);
  return {
    runs: page.map((record) => openTrainingRun(open.cipher, open.name, record)),
    endCursor: page.length === 0 ? null : cursorOf(page[page.length - 1].seq),
    hasNextPage: stored.length > limit,
  };
}

export async function findTrainingRun(store: Store, open: OpenIndex, runId: string): Promise<TrainingRun> {
  if (typeof runId !== 'string' || runId === '' || runId.length > 200) throw new ValidationError('runId', 'runId must be a run id returned by trainIndex');
  const stored = await translatingErrors(open.name, () => store.getTrainingRun(open.name, trainingRunToken(open.cipher, runId)), 'training run history');
  if (stored === null) throw new TrainingRunNotFoundError(open.name, runId);
  return openTrainingRun(open.cipher, open.name, stored);
}

function cursorOf(seq: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${seq}`, 'utf8').toString('base64url');
}

function seqOfCursor(cursor: string): number {
  const text = typeof cursor === 'string' ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const seq = Number(text.slice(CURSOR_PREFIX.length));
  if (!text.startsWith(CURSOR_PREFIX) || !Number.isSafeInteger(seq) || seq < 1) throw new ValidationError('after', 'after must be an endCursor returned by trainingRuns');
  return seq;
}
