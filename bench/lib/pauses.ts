/**
 * What stalls a process's event loop during a measured window: garbage-collection pauses (by kind)
 * and the loop's own delay. A latency spike that every query kind shows in the same second is a
 * stall of the server (or of the load driver, whose delay also counts in the latencies); these
 * figures say which process stalled and whether it was the collector.
 */
import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

export interface PauseSummary {
  gcPauses: number;
  gcTotalMs: number;
  gcMaxMs: number;
  /** Mark-compact collections (the old generation), the long ones. */
  gcMajor: number;
  gcMajorMaxMs: number;
  /** Pauses of 10 ms or more. */
  gcOver10Ms: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export function watchPauses(): { stop(): PauseSummary } {
  const s = { gcPauses: 0, gcTotalMs: 0, gcMaxMs: 0, gcMajor: 0, gcMajorMaxMs: 0, gcOver10Ms: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      s.gcPauses++;
      s.gcTotalMs += e.duration;
      s.gcMaxMs = Math.max(s.gcMaxMs, e.duration);
      if (e.duration >= 10) s.gcOver10Ms++;
      if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        s.gcMajor++;
        s.gcMajorMaxMs = Math.max(s.gcMajorMaxMs, e.duration);
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const r2 = (x: number) => Number(x.toFixed(2));
  return {
    stop() {
      observer.disconnect();
      loop.disable();
      return {
        gcPauses: s.gcPauses,
        gcTotalMs: r2(s.gcTotalMs),
        gcMaxMs: r2(s.gcMaxMs),
        gcMajor: s.gcMajor,
        gcMajorMaxMs: r2(s.gcMajorMaxMs),
        gcOver10Ms: s.gcOver10Ms,
        // The histogram is in nanoseconds and includes the sampling resolution itself.
        loopDelayP99Ms: r2(loop.percentile(99) / 1e6),
        loopDelayMaxMs: r2(loop.max / 1e6),
      };
    },
  };
}
