// The closing report of a training run: how it ended, on what, and whether it converged.

import type { TrainingProgress } from '../api/operations.js';
import { formatCount, formatDuration, formatScientific } from '../format.js';

export function trainingSummary(run: TrainingProgress): string {
  const lines = [`Training run ${run.runId ?? '(none)'} of "${run.index}" ${run.phase} after ${formatDuration(run.elapsedMs)}`];
  lines.push(`  lists ${formatCount(run.nLists)}, vectors ${formatCount(run.vectorCount)}, batch size ${formatCount(run.batchSize)}`);
  // A mini-batch run also converges when its smoothed inertia stops improving, above tolerance.
  const convergence = `${run.converged ? 'converged' : 'not converged'} (shift ${formatScientific(run.shift)}, tolerance ${formatScientific(run.tolerance)})`;
  lines.push(`  iterations ${run.iteration}/${run.maxIters}, ${convergence}`);
  if (run.inertia !== null) lines.push(`  inertia ${formatScientific(run.inertia)}`);
  if (run.message) lines.push(`  ${run.phase === 'COMPLETED' ? 'note' : 'reason'}: ${run.message}`);
  return lines.join('\n');
}
