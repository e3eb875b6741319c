// A training run that ended, as a sealed record of the index's run history: the run's JSON sealed
// under the index's data key, bound to the index and to its token (an HMAC of the run id, which is
// how trainingRun finds it without the store seeing the id).

import type { IndexCipher } from '../../crypto/index.js';
import type { StoredTrainingRun } from '../../storage/index.js';
import type { TrainingRun } from '../types.js';
import { trainingRunAad } from './associated-data.js';

export const TRAINING_RUN_TOKEN_DOMAIN = 'training-run';

export function trainingRunToken(cipher: IndexCipher, runId: string): Buffer {
  return cipher.token(TRAINING_RUN_TOKEN_DOMAIN, runId);
}

export function sealTrainingRun(cipher: IndexCipher, index: string, run: TrainingRun): { token: Buffer; sealed: Buffer } {
  const token = trainingRunToken(cipher, run.runId);
  return { token, sealed: cipher.seal(Buffer.from(JSON.stringify(run), 'utf8'), trainingRunAad(index, token)) };
}

export function openTrainingRun(cipher: IndexCipher, index: string, stored: StoredTrainingRun): TrainingRun {
  const run = JSON.parse(cipher.open(stored.sealed, trainingRunAad(index, stored.token)).toString('utf8')) as TrainingRun;
  return withDates(run);
}

/** A run read back from JSON, its ISO date strings turned back into Dates. */
export function withDates(run: TrainingRun): TrainingRun {
  const { startedAt, finishedAt } = run as unknown as { startedAt: string | null; finishedAt: string | null };
  return { ...run, startedAt: startedAt === null ? null : new Date(startedAt), finishedAt: finishedAt === null ? null : new Date(finishedAt) };
}
