// CPU time of the process's main thread alone, for benchmarks that run workers beside it (the
// whole process's time, process.cpuUsage, counts theirs too).
import { existsSync, readFileSync } from 'node:fs';

/** Milliseconds (Linux: /proc, 10 ms ticks), or null where that is not readable. */
export function mainThreadCpuMs(): number | null {
  const stat = `/proc/self/task/${process.pid}/stat`;
  if (!existsSync(stat)) return null;
  // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 per second on Linux).
  const fields = readFileSync(stat, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Milliseconds the main thread has spent runnable but waiting for a core (Linux: the second field
 * of /proc's schedstat, in ns), or null where that is not readable. On a machine whose cores are
 * all busy, this is time a request waits even though its thread has work to do.
 */
export function mainThreadCpuWaitMs(): number | null {
  const schedstat = `/proc/self/task/${process.pid}/schedstat`;
  if (!existsSync(schedstat)) return null;
  return Number(readFileSync(schedstat, 'utf8').split(' ')[1]) / 1e6;
}
