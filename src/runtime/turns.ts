// Long work on the thread that answers queries runs as a generator of short steps; this drives
// one to its end with a turn of the event loop between two steps, so requests are served between.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** The value `steps` ends with; `afterTurn` runs after each turn (it throws to stop the work). */
export async function runBetweenTurns<T>(steps: Generator<void, T, undefined>, afterTurn?: () => void): Promise<T> {
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done === true) return step.value;
    await nextTurn();
    afterTurn?.();
  }
}
