/**
 * Is anything else running? The 1-minute load average cannot say: a benchmark that keeps both
 * cores busy raises it by itself, so every case after the first would look "loaded". Instead
 * compare the machine's busy CPU time (/proc/stat) with the CPU time of this process tree and of
 * Postgres (whose backends do the database benchmarks' work) over the same window: what is left
 * is other people's work, in cores. Linux only; elsewhere `cpuSnapshot` is null and callers fall
 * back to the load average.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuSnapshot {
  /** Wall clock, ms. */
  t: number;
  /** Busy jiffies of the whole machine (user, nice, system, irq, softirq, steal). */
  busy: number;
  /** Jiffies of this process, its descendants (live and reaped) and Postgres processes. */
  ours: number;
  /** Jiffies of the Postgres processes alone (a part of `ours`). */
  postgres: number;
}

/** Other work above this many cores on average over a window marks the window as loaded. */
export const OTHERS_LOADED_CORES = 0.25;
const TICKS_PER_SECOND = 100; // USER_HZ on every Linux we run on

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime + cutime + cstime */
  jiffies: number;
}

function readProc(pid: string): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const f = text.slice(close + 2).split(' '); // f[0] is field 3 (state)
    return { pid: Number(pid), ppid: Number(f[1]), comm, jiffies: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  } catch {
    return null; // exited while we looked
  }
}

export function cpuSnapshot(): CpuSnapshot | null {
  if (process.platform !== 'linux') return null;
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = cpu;
    const busy = user + nice + system + irq + softirq + (steal ?? 0);
    const procs = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(readProc)
      .filter((p): p is ProcStat => p !== null);
    const children = new Map<number, number[]>();
    for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
    const mine = new Set<number>();
    const stack = [process.pid];
    while (stack.length) {
      const pid = stack.pop()!;
      if (mine.has(pid)) continue;
      mine.add(pid);
      stack.push(...(children.get(pid) ?? []));
    }
    let ours = 0;
    let postgres = 0;
    for (const p of procs) {
      const isPostgres = p.comm === 'postgres' || p.comm.startsWith('postgres:');
      if (isPostgres) postgres += p.jiffies;
      if (mine.has(p.pid) || isPostgres) ours += p.jiffies;
    }
    return { t: Date.now(), busy, ours, postgres };
  } catch {
    return null;
  }
}

/** Cores' worth of CPU used by others between two snapshots (null when either is missing). */
export function othersCores(a: CpuSnapshot | null, b: CpuSnapshot | null): number | null {
  // Under a second, a single jiffy of someone else's reads as a large share: too short to judge.
  if (!a || !b || b.t - a.t < 1000) return null;
  const seconds = (b.t - a.t) / 1000;
  const others = (b.busy - a.busy - (b.ours - a.ours)) / TICKS_PER_SECOND;
  return Math.max(0, Math.round((others / seconds) * 100) / 100);
}

/** CPU milliseconds the Postgres processes used between two snapshots (null when either is missing). */
export function postgresCpuMs(a: CpuSnapshot | null, b: CpuSnapshot | null): number | null {
  return a && b ? ((b.postgres - a.postgres) * 1000) / TICKS_PER_SECOND : null;
}
