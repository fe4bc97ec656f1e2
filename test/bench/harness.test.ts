import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';

describe('bench harness', () => {
  it('prints one JSON line per record and appends it to the results file', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'saeboard-bench-')), 'results.jsonl');
    vi.stubEnv('SAEBOARD_BENCH_RESULTS', file);
    vi.resetModules();
    const { createBench, stats } = await import('../../bench/harness.js');
    const printed: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (printed.push(String(s)), true));
    try {
      const h = createBench('unit', ['--reps', '4']);
      expect(h.option('reps', '1')).toBe('4');
      expect(h.option('missing', 'dflt')).toBe('dflt');
      let calls = 0;
      const t = await h.time(() => void calls++, { reps: 4, warmup: 2 });
      expect(calls).toBe(6);
      expect(t.reps).toBe(4);
      h.record('case-a', { value: 1 });
      h.record('case-b', { value: 2 });
    } finally {
      spy.mockRestore();
      vi.unstubAllEnvs();
    }
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.bench, l.case, l.value])).toEqual([['unit', 'case-a', 1], ['unit', 'case-b', 2]]);
    expect(lines[0].machine.cores).toBeGreaterThan(0);
    expect(printed.map((p) => JSON.parse(p).case)).toEqual(['case-a', 'case-b']);
    expect(stats([3, 1, 2]).median).toBe(2);
    expect(stats([4, 1, 2, 3]).median).toBe(2.5);
  });
});
