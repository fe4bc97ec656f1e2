import { readFileSync } from 'node:fs';

/**
 * A process identity that survives pid reuse: the pid plus the process's start time (Linux:
 * /proc/<pid>/stat field 22, clock ticks since boot). Temp files and embedded-Postgres leases carry
 * it, so a later run can tell that their owner is gone even if its pid was given to another process.
 */

/** The start time of process `pid` as a decimal string; '0' where /proc is absent; null when it is not running (Linux; zombies count as gone). */
export function processStartTime(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return process.platform === 'linux' ? null : '0';
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return null; // exited, not yet reaped
  return fields[19] ?? '0';
}

let self: string | null = null;

/** This process's start time (see processStartTime), computed once. */
export function selfStartTime(): string {
  self ??= processStartTime(process.pid) ?? '0';
  return self;
}

/**
 * Is the process that wrote `pid` (started at `startTime`, '0' = unknown) still running? A pid that
 * is alive but started at another time belongs to someone else: the owner is gone.
 */
export function isProcessAlive(pid: number, startTime = '0'): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return startTime === '0' || startTime === selfStartTime();
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (startTime === '0') return true;
  const now = processStartTime(pid);
  return now === null ? false : now === '0' || now === startTime;
}
