// Long work on the thread that answers queries runs as a generator of short steps; these drive
// one to its end, with a turn of the event loop between two steps (requests are served between)
// or at once (a caller with nothing to serve meanwhile).
import { setImmediate as nextTurn } from 'node:timers/promises';

/** The value `steps` ends with, every step run now. */
export function runToEnd<T>(steps: Generator<void, T, undefined>): T {
  for (let step = steps.next(); ; step = steps.next()) if (step.done === true) return step.value;
}

/** The value `steps` ends with; `afterTurn` runs after each turn (it throws to stop the work). */
export async function runBetweenTurns<T>(steps: Generator<void, T, undefined>, afterTurn?: () => void): Promise<T> {
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done === true) return step.value;
    await nextTurn();
    afterTurn?.();
  }
}
