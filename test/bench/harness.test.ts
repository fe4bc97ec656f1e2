import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
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

  it('interleaves the sides A, B, A, B after the warm-up rounds and takes a side\'s own timing when it returns one', async () => {
    const { interleave } = await import('../../bench/harness.js');
    const calls: string[] = [];
    let now = 0;
    const clock = () => now;
    const cmp = await interleave(
      [
        { name: 'ours', step: () => (calls.push('ours'), (now += 10)) && undefined },
        { name: 'peer', step: () => (calls.push('peer'), (now += 1000), 25) },
      ],
      { reps: 5, warmup: 2 },
      clock,
      () => 0.1,
      2,
      () => null,
    );
    expect(calls).toEqual(['ours', 'peer', 'ours', 'peer', ...Array.from({ length: 5 }, () => ['ours', 'peer']).flat()]);
    expect(cmp.order).toEqual(Array.from({ length: 5 }, () => ['ours', 'peer']).flat());
    // ours: the wall clock (10 ms a call); peer: its own figure (25), not the 1000 the clock saw
    expect(cmp.sides.ours.samplesMs).toEqual([10, 10, 10, 10, 10]);
    expect(cmp.sides.peer.samplesMs).toEqual([25, 25, 25, 25, 25]);
    expect(cmp.ratioOfMedians).toBe(2.5);
    expect(cmp.loaded).toBe(false);
  });

  it('defaults to 5 repetitions a side and reports median, min, spread and the ratio of medians', async () => {
    const { interleave, COMPARE_REPS } = await import('../../bench/harness.js');
    expect(COMPARE_REPS).toBeGreaterThanOrEqual(5);
    const a = [12, 10, 11, 30, 10];
    const b = [20, 22, 21, 19, 40];
    let ia = 0;
    let ib = 0;
    const cmp = await interleave(
      [
        { name: 'a', step: () => a[ia++ % 5] },
        { name: 'b', step: () => b[ib++ % 5] },
      ],
      { warmup: 0 },
      () => 0,
      () => 0,
      2,
    );
    expect(cmp.sides.a.reps).toBe(5);
    expect(cmp.sides.a.median).toBe(11);
    expect(cmp.sides.a.min).toBe(10);
    expect(cmp.sides.a.spread).toBeCloseTo((30 - 10) / 11, 3);
    expect(cmp.sides.b.median).toBe(21);
    expect(cmp.sides.b.min).toBe(19);
    expect(cmp.ratioOfMedians).toBeCloseTo(21 / 11, 3);
    const { sideSummary, sideStats } = await import('../../bench/harness.js');
    expect(sideSummary(sideStats([0.1234, 0.2345, 0.3456]))).toEqual({ msMedian: 0.2, msMin: 0.1, spread: 0.948, reps: 3 });
    expect(sideSummary(sideStats([0.1234, 0.2345, 0.3456]), 3)).toEqual({ msMedian: 0.235, msMin: 0.123, spread: 0.948, reps: 3 });
  });

  it('marks a run loaded when the 1-minute load average exceeds 0.5 per core before or after', async () => {
    const { interleave, isLoaded, LOADED_PER_CORE } = await import('../../bench/harness.js');
    expect(LOADED_PER_CORE).toBe(0.5);
    expect(isLoaded([0.9, 1.0], 2)).toBe(false);
    expect(isLoaded([1.01, 0.2], 2)).toBe(true);
    expect(isLoaded([0.2, 1.5], 2)).toBe(true);
    expect(isLoaded([3.9], 8)).toBe(false);
    const loads = [0.4, 1.6];
    const sides = [
      { name: 'a', step: () => 1 },
      { name: 'b', step: () => 2 },
    ];
    // Where others' CPU cannot be measured (cpu snapshot null), the load average decides.
    const cmp = await interleave(sides, { reps: 5, warmup: 0 }, () => 0, () => loads.shift()!, 2, () => null);
    expect([cmp.load1Before, cmp.load1After, cmp.loaded]).toEqual([0.4, 1.6, true]);
    const { loadFields } = await import('../../bench/harness.js');
    expect(loadFields(cmp)).toEqual({ load1Before: 0.4, load1After: 1.6, othersCores: null, loaded: true });
    const quiet = await interleave(sides, { reps: 5, warmup: 0 }, () => 0, () => 0.3, 2, () => null);
    expect(quiet.loaded).toBe(false);
  });

  it('runs more rounds than asked until the timed part lasted minSeconds (short steps get a window others can be judged over)', async () => {
    const { interleave } = await import('../../bench/harness.js');
    let t = 0;
    const clock = () => (t += 10); // every reading advances 10 ms: a round reads it 5 times, 50 ms
    const sides = [
      { name: 'a', step: () => undefined },
      { name: 'b', step: () => undefined },
    ];
    const cmp = await interleave(sides, { reps: 3, warmup: 0, minSeconds: 1 }, clock, () => 0, 2, () => null);
    expect(cmp.sides.a.reps).toBeGreaterThanOrEqual(18);
    expect(cmp.sides.a.reps).toBeLessThanOrEqual(22);
    expect(cmp.sides.b.reps).toBe(cmp.sides.a.reps);
    expect(cmp.order.slice(0, 4)).toEqual(['a', 'b', 'a', 'b']);
    // Without minSeconds, exactly `reps` rounds, however short.
    const plain = await interleave(sides, { reps: 3, warmup: 0 }, clock, () => 0, 2, () => null);
    expect(plain.sides.a.reps).toBe(3);
  });

  it('leaves the machine idle for settleMs before every timed step, outside the timing', async () => {
    const { interleave } = await import('../../bench/harness.js');
    const idleBefore: number[] = [];
    let last = performance.now();
    const step = () => {
      idleBefore.push(performance.now() - last);
      last = performance.now();
    };
    const sides = [
      { name: 'a', step },
      { name: 'b', step },
    ];
    const cmp = await interleave(sides, { reps: 2, warmup: 1, settleMs: 30 }, () => 0, () => 0, 2, () => null);
    expect(cmp.settleMs).toBe(30);
    expect(idleBefore).toHaveLength(6);
    // warm-up steps run back to back; every timed step follows a pause of settleMs
    for (const gap of idleBefore.slice(2)) expect(gap).toBeGreaterThanOrEqual(28);
    expect(cmp.sides.a.median).toBe(0); // the pause is not in the measured time (clock stood still)
    const plain = await interleave(sides, { reps: 2, warmup: 0 }, () => 0, () => 0, 2, () => null);
    expect(plain.settleMs).toBe(0);
  });

  it('judges load by the CPU others used meanwhile, not by the load average the benchmark raises itself', async () => {
    const { interleave, OTHERS_LOADED_CORES } = await import('../../bench/harness.js');
    const { othersCores, cpuSnapshot, postgresCpuMs } = await import('../../bench/lib/other-load.js');
    const sides = [
      { name: 'a', step: () => 1 },
      { name: 'b', step: () => 2 },
    ];
    // 10 s, 20 cores·s busy (2 cores flat out), 19 of them ours: others used 0.1 core → quiet,
    // although the load average went to 2.5.
    const quietSnaps = [{ t: 0, busy: 0, ours: 0, postgres: 0 }, { t: 10_000, busy: 2000, ours: 1900, postgres: 500 }];
    const quiet = await interleave(sides, { reps: 5, warmup: 0 }, () => 0, () => 2.5, 2, () => quietSnaps.shift()!);
    expect([quiet.othersCores, quiet.loaded]).toEqual([0.1, false]);
    // Others used half a core → loaded, whatever the load average says.
    const busySnaps = [{ t: 0, busy: 0, ours: 0, postgres: 0 }, { t: 10_000, busy: 1500, ours: 1000, postgres: 0 }];
    const busy = await interleave(sides, { reps: 5, warmup: 0 }, () => 0, () => 0.1, 2, () => busySnaps.shift()!);
    expect([busy.othersCores, busy.loaded]).toEqual([0.5, true]);
    expect(OTHERS_LOADED_CORES).toBe(0.25);
    expect(othersCores(null, quietSnaps[0] ?? null)).toBeNull();
    // Postgres's own share, in CPU milliseconds (50 jiffies = 0.5 s).
    expect(postgresCpuMs({ t: 0, busy: 0, ours: 0, postgres: 10 }, { t: 2000, busy: 100, ours: 90, postgres: 60 })).toBe(500);
    expect(postgresCpuMs(null, { t: 0, busy: 0, ours: 0, postgres: 0 })).toBeNull();
    // On this machine a real snapshot exists and counts this process among "ours".
    if (process.platform === 'linux') {
      const a = cpuSnapshot()!;
      let x = 0;
      // busy until this process has used 0.2 s of CPU (by its own clock; a wall-clock window can
      // get less than that when the test run keeps both cores busy)
      const cpu0 = process.cpuUsage();
      const cpuMs = () => {
        const u = process.cpuUsage(cpu0);
        return (u.user + u.system) / 1000;
      };
      const until = Date.now() + 10_000;
      while (cpuMs() < 200 && Date.now() < until) for (let i = 0; i < 1e5; i++) x += Math.sqrt(x + 1);
      const b = cpuSnapshot()!;
      expect(b.ours - a.ours).toBeGreaterThan(10); // ≥ 0.1 s of ours in jiffies
      expect(b.postgres).toBeGreaterThanOrEqual(a.postgres);
      expect(b.ours - a.ours).toBeGreaterThanOrEqual(b.postgres - a.postgres);
      expect(othersCores(a, b)).toBeNull(); // a window under a second is too short to judge
      expect(othersCores(a, { ...b, t: a.t + 10_000 })).toBeGreaterThanOrEqual(0);
    }
  });

  it('gives every record its load average before and after and a loaded flag, unless the bench set them', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'saeboard-bench-')), 'results.jsonl');
    vi.stubEnv('SAEBOARD_BENCH_RESULTS', file);
    vi.resetModules();
    const { createBench, loadedBy } = await import('../../bench/harness.js');
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const h = createBench('unit', []);
      h.record('auto', { value: 1 });
      h.record('explicit', { value: 2, load1Before: 9, load1After: 9, loaded: true });
    } finally {
      spy.mockRestore();
      vi.unstubAllEnvs();
    }
    const [auto, explicit] = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(typeof auto.load1Before).toBe('number');
    expect(typeof auto.load1After).toBe('number');
    expect(auto.othersCores === null || typeof auto.othersCores === 'number').toBe(true);
    expect(auto.loaded).toBe(loadedBy(auto.othersCores, [auto.load1Before, auto.load1After], os.cpus().length));
    expect([explicit.load1Before, explicit.load1After, explicit.loaded]).toEqual([9, 9, true]);
  });

  it('prints a bench\'s usage for --help without running it or writing a record', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'saeboard-bench-')), 'results.jsonl');
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'sae-step', '--help'], {
      encoding: 'utf8',
      env: { ...process.env, SAEBOARD_BENCH_RESULTS: file },
    });
    expect(out).toMatch(/^bench\/sae-step: ms per SAE training step/);
    expect(out).toContain('npm run bench -- sae-step [--batches 2048,8192]');
    expect(out).not.toMatch(/^\s*\*|\/\*\*|\*\//m);
    expect(existsSync(file)).toBe(false);
  });

  it('takes the usage from the leading doc comment only, after any imports', async () => {
    const { benchUsage } = await import('../../bench/harness.js');
    expect(benchUsage("import x from 'y';\n/**\n * Line one.\n *   npm run bench -- x [--n 3]\n */\nconst a = 1;\n/** later */"))
      .toBe('Line one.\n  npm run bench -- x [--n 3]\n');
    expect(benchUsage('const a = 1;\n/** not leading */')).toBeNull();
  });

  it('marks a window as a slow spell of the host when a probe around it took > 1.25× the fastest probe seen', async () => {
    const { hostVerdict, HOST_SLOW_FACTOR } = await import('../../bench/lib/host-probe.js');
    expect(HOST_SLOW_FACTOR).toBe(1.25);
    expect(hostVerdict(20, 21, Infinity)).toEqual({ hostProbeMs: [20, 21], hostFastestMs: 20, hostSlow: false });
    // slower after than before (the spell began during the run), or both slower than earlier windows
    expect(hostVerdict(20, 30, Infinity).hostSlow).toBe(true);
    expect(hostVerdict(26, 26, 20)).toEqual({ hostProbeMs: [26, 26], hostFastestMs: 20, hostSlow: true });
    expect(hostVerdict(24, 25, 20).hostSlow).toBe(false);
    // a faster probe becomes the new reference
    expect(hostVerdict(15, 16, 20).hostFastestMs).toBe(15);
  });

  it('probes the host around every comparison and puts the verdict in the comparison and its records', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'saeboard-bench-')), 'results.jsonl');
    vi.stubEnv('SAEBOARD_BENCH_RESULTS', file);
    vi.resetModules();
    const { createBench } = await import('../../bench/harness.js');
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const h = createBench('unit', ['--settle-ms', '0']);
      const sides = [
        { name: 'a', step: () => 1 },
        { name: 'b', step: () => 2 },
      ];
      const c1 = await h.compare(sides, { reps: 2, minSeconds: 0 });
      const c2 = await h.compare(sides, { reps: 2, minSeconds: 0 });
      for (const c of [c1, c2]) {
        expect(c.hostProbeMs).toHaveLength(2);
        for (const ms of c.hostProbeMs!) expect(ms).toBeGreaterThan(0);
        expect(c.hostSlow).toBe(Math.max(...c.hostProbeMs!) > 1.25 * c.hostFastestMs!);
        if (c.hostSlow) expect(c.loaded).toBe(true);
      }
      // the reference is the fastest probe of the process, across comparisons
      expect(c2.hostFastestMs).toBe(Math.min(...c1.hostProbeMs!, ...c2.hostProbeMs!));
      h.record('after-compare', { value: 1 });
    } finally {
      spy.mockRestore();
      vi.unstubAllEnvs();
    }
    const line = JSON.parse(readFileSync(file, 'utf8').trim());
    expect(line.hostProbeMs).toHaveLength(2);
    expect(typeof line.hostSlow).toBe('boolean');
    if (line.hostSlow) expect(line.loaded).toBe(true);
  });

  it('names the CPU by family, model and, for AMD, its Zen generation (the VMs all say "AMD EPYC")', async () => {
    const { cpuIdentity, machine } = await import('../../bench/harness.js');
    const info = (vendor: string, family: number, model: number) =>
      `processor\t: 0\nvendor_id\t: ${vendor}\ncpu family\t: ${family}\nmodel\t\t: ${model}\nmodel name\t: AMD EPYC\n`;
    expect(cpuIdentity(info('AuthenticAMD', 25, 17))).toEqual({ family: 25, model: 17, uarch: 'zen4' });
    expect(cpuIdentity(info('AuthenticAMD', 25, 1))).toEqual({ family: 25, model: 1, uarch: 'zen3' });
    expect(cpuIdentity(info('AuthenticAMD', 26, 2))).toEqual({ family: 26, model: 2, uarch: 'zen5' });
    expect(cpuIdentity(info('AuthenticAMD', 23, 49))).toEqual({ family: 23, model: 49, uarch: 'zen2' });
    expect(cpuIdentity(info('GenuineIntel', 6, 143))).toEqual({ family: 6, model: 143, uarch: null });
    expect(cpuIdentity('no fields here')).toBeNull();
    // this machine's record carries it, as read from /proc/cpuinfo
    const m = machine();
    expect(m).toHaveProperty('cpuId');
    if (existsSync('/proc/cpuinfo')) expect(m.cpuId).toEqual(cpuIdentity(readFileSync('/proc/cpuinfo', 'utf8')));
  });
});
