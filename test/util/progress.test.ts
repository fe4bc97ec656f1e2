import { afterEach, describe, expect, it, vi } from 'vitest';
import { progress } from '../../src/progress.js';

describe('progress (plain-line mode)', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  function capture() {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    return lines;
  }

  it('reports the rate of the work done since the start', () => {
    vi.useFakeTimers();
    const lines = capture();
    const bar = progress({ label: 'train', total: 100, unit: 'tok', enabled: false });
    vi.advanceTimersByTime(2000);
    bar.update(40);
    bar.stop();
    expect(lines.at(-1)).toMatch(/^train: 40\/100 tok \(40\.0%\) 20 tok\/s done/);
  });

  it('counts only this run after resumeAt (a resumed training run)', () => {
    vi.useFakeTimers();
    const lines = capture();
    const bar = progress({ label: 'train', total: 10_000, unit: 'tok', enabled: false });
    bar.resumeAt(6000);
    vi.advanceTimersByTime(4000);
    bar.update(6100);
    bar.stop();
    expect(lines.at(-1)).toMatch(/^train: 6100\/10000 tok \(61\.0%\) 25 tok\/s done/);
  });
});
