/** Sweeps: one stream for many SAEs, log-spaced checkpoints, exact resume, bad input. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { loadSaeDir } from '../../src/sae/index.js';
import { ActivationBuffer } from '../../src/sae/buffer.js';
import { writeSaeCheckpoint } from '../../src/sae/checkpoint.js';
import { memorySource, syntheticSource } from '../../src/sae/source.js';
import { runSweep } from '../../src/sae/sweep.js';
import { checkpointSteps, paperSweep, resolveSweep } from '../../src/sae/sweepConfig.js';
import { UserInputError } from '../../src/errors.js';
import { randomUnitDictionary } from '../../src/sae/synthetic.js';
import { initDictionary } from '../../src/sae/trainers/index.js';

let tmp: string;
beforeAll(async () => {
  await initBackend();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'sae-sweep-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const D = 8;
const source = () => syntheticSource({ dict: randomUnitDictionary(D, 24, 3), active: 2, contexts: 400, contextLength: 10, seed: 5 });

function spec(extra: Record<string, unknown> = {}) {
  return resolveSweep(
    {
      name: 'tiny',
      batchSize: 32,
      seed: 9,
      buffer: { contexts: 20 },
      source: { type: 'synthetic', dIn: D, features: 24, active: 2, contexts: 400, contextLength: 10, seed: 5 },
      checkpoints: { logSpaced: true, steps: [5], resumeEvery: 10 },
      defaults: { steps: 40, warmupSteps: 5 },
      trainers: [
        { trainer: 'standard', expansion: 2, l1Penalty: [0.05, 0.2] },
        { trainer: 'p_anneal', expansion: 2, initialSparsityPenalty: 0.1, annealStart: 10 },
        { trainer: 'top_k', dictSize: 16, k: 3, steps: 25 },
      ],
      ...extra,
    },
    D,
  );
}

async function finalTensors(dir: string): Promise<Record<string, Float32Array>> {
  const { dictionary } = await loadSaeDir(dir);
  const h = dictionary.toHost();
  dictionary.dispose();
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.data]));
}

describe('sweep config', () => {
  it('expands grids (last axis fastest) and names SAEs trainer0..N−1', () => {
    const s = spec();
    expect(s.saes.map((x) => [x.name, x.config.trainer])).toEqual([
      ['trainer0', 'standard'],
      ['trainer1', 'standard'],
      ['trainer2', 'p_anneal'],
      ['trainer3', 'top_k'],
    ]);
    expect(s.saes.map((x) => ('l1Penalty' in x.config ? x.config.l1Penalty : null))).toEqual([0.05, 0.2, null, null]);
    expect(s.saes.every((x) => x.config.batchSize === 32 && x.config.dIn === D)).toBe(true);
    const paper = resolveSweep(
      {
        name: 'p',
        source: { type: 'activations', path: 'x' },
        trainers: [{ trainer: 'standard', steps: 36621, expansion: [8, 16], l1Penalty: { linspace: [0.035, 0.08, 20] } }],
      },
      512,
    );
    expect(paper.saes).toHaveLength(40);
    expect(paper.saes[19].config.dictSize).toBe(4096);
    expect(paper.saes[20].config.dictSize).toBe(8192);
    expect(paper.saes[20].config.trainer === 'standard' && paper.saes[20].config.l1Penalty).toBeCloseTo(0.035, 12);
  });

  it('names the bad field', () => {
    const bad = (trainers: unknown[], extra = {}) => () =>
      resolveSweep({ name: 'b', source: { type: 'activations', path: 'x' }, defaults: { steps: 2000 }, trainers, ...extra }, 16);
    expect(bad([{ trainer: 'standard', l1Penalty: 0.1, expansion: 2 }, { trainer: 'standard', l1Penalty: -1, expansion: 2 }])).toThrow(
      'sweep.trainers[1].l1Penalty: expected a number > 0',
    );
    expect(bad([{ trainer: 'stndard', l1Penalty: 0.1 }])).toThrow('sweep.trainers[0].trainer: unknown trainer "stndard"');
    expect(bad([{ trainer: 'top_k', k: 4, expansion: 2, l1Penalty: 0.1 }])).toThrow('sweep.trainers[0]: unknown field "l1Penalty" (not used by trainer top_k)');
    expect(bad([{ trainer: 'standard', l1Penalty: 0.1, expansion: 2, dIn: 32 }])).toThrow("sweep.trainers[0].dIn: 32 does not match the activation source's d_in 16");
    expect(bad([{ trainer: 'standard', l1Penalty: 0.1, expansion: 2, batchSize: 7 }])).toThrow('sweep.trainers[0].batchSize');
    expect(bad([{ trainer: 'standard', expansion: 2, l1Penalty: null }])).toThrow('sweep.trainers[0].l1Penalty: expected a number');
    expect(bad([], {})).toThrow('sweep.trainers: expected at least one trainer');
    expect(() => resolveSweep({ name: 'b', source: { type: 'nope' }, trainers: [{}] }, 16)).toThrow(/^sweep\.source/);
  });

  it('caps the grid before expanding it, with an explicit override', () => {
    const doc = (entry: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      name: 'big',
      source: { type: 'activations', path: 'x' },
      batchSize: 64,
      trainers: [{ trainer: 'standard', expansion: 2, steps: 2000, l1Penalty: 0.1, ...entry }],
      ...extra,
    });
    // 10^12 points: expanding them would die with a RangeError (or run out of memory), so a
    // UserInputError proves the size was checked first
    const huge = () => resolveSweep(doc({ expansion: [2, 4], l1Penalty: { linspace: [0.01, 0.1, 1e12] } }), 16, 'big.yaml');
    expect(huge).toThrow(UserInputError);
    expect(huge).toThrow(
      'big.yaml: the trainer grids give 2,000,000,000,000 SAEs, more than the limit of 1,000 (trainers[0]: expansion 2 × l1Penalty 1,000,000,000,000); shrink the grid, or raise the limit with --max-saes or limits.maxSaes in the config',
    );
    // the limit counts every trainer entry, and defaults that are axes
    const two = { name: 'two', source: { type: 'activations', path: 'x' }, defaults: { steps: 2000, expansion: [2, 4] }, trainers: [{ trainer: 'standard', l1Penalty: { logspace: [-2, -1, 3] } }, { trainer: 'top_k', k: [1, 2] }] };
    expect(resolveSweep(two, 16).saes).toHaveLength(10);
    expect(() => resolveSweep({ ...two, limits: { maxSaes: 9 } }, 16)).toThrow('the trainer grids give 10 SAEs, more than the limit of 9 (trainers[0]: expansion 2 × l1Penalty 3; trainers[1]: expansion 2 × k 2)');
    expect(() => resolveSweep(two, 16, 'sweep', { maxSaes: 9 })).toThrow('more than the limit of 9');
    // overrides: the config's limits, then the command line's
    const grid = doc({ l1Penalty: { linspace: [0.01, 0.1, 1500] } });
    expect(() => resolveSweep(grid, 16)).toThrow('1,500 SAEs, more than the limit of 1,000');
    expect(resolveSweep({ ...grid, limits: { maxSaes: 1500 } }, 16).saes).toHaveLength(1500);
    expect(resolveSweep(grid, 16, 'sweep', { maxSaes: 2000 }).saes).toHaveLength(1500);
    expect(() => resolveSweep({ ...grid, limits: { maxSaes: 2000 } }, 16, 'sweep', { maxSaes: 1000 })).toThrow('more than the limit of 1,000');
    expect(() => resolveSweep({ ...grid, limits: { maxSaes: 0 } }, 16)).toThrow('sweep.limits.maxSaes');
  });

  it('caps the total work (SAEs × steps × batch), with an explicit override', () => {
    const doc = { name: 'long', source: { type: 'activations', path: 'x' }, batchSize: 8192, trainers: [{ trainer: 'standard', expansion: 2, l1Penalty: [0.1, 0.2], steps: 1e10 }] };
    expect(() => resolveSweep(doc, 16)).toThrow(
      'sweep: 2 SAE(s) × their steps × batch 8192 = 1.64e+14 activation vectors to train on, more than the limit of 1.00e+14; lower steps, batchSize or the grid, or raise the limit with --max-work or limits.maxWork in the config',
    );
    expect(resolveSweep(doc, 16, 'sweep', { maxWork: 2e14 }).saes).toHaveLength(2);
    expect(resolveSweep({ ...doc, limits: { maxWork: 2e14 } }, 16).saes).toHaveLength(2);
    // the paper's sweeps fit the defaults
    for (const t of ['standard', 'p_anneal', 'gated', 'gated_anneal', 'top_k']) {
      expect(resolveSweep(paperSweep('othello', t, { type: 'activations', path: 'x' }), 512).saes.length).toBeGreaterThanOrEqual(40);
    }
  });

  it('log-spaced checkpoint steps', () => {
    expect(checkpointSteps(40, true, [5, 99])).toEqual([0, 1, 2, 4, 5, 8, 16, 32]);
    expect(checkpointSteps(36_621, true, []).slice(-3)).toEqual([8192, 16384, 32768]);
  });
});

describe('activation buffer', () => {
  it('serves batches without replacement within a fill and refills when half is read', async () => {
    // 10 contexts × 4 vectors; vector i = (i, i) so ids are visible
    const data = new Float32Array(400 * 2).map((_, j) => Math.floor(j / 2));
    const buf = new ActivationBuffer(memorySource(data, 2, 4), { contexts: 10, seed: 1 });
    const seen: number[] = [];
    for (let b = 0; b < 2; b++) {
      const x = await buf.next(10);
      for (let i = 0; i < 10; i++) seen.push(x[2 * i]);
    }
    // 20 of the first 40 vectors, all distinct
    expect(new Set(seen).size).toBe(20);
    expect(Math.max(...seen)).toBeLessThan(40);
    // third batch: unread (20) is not < half (20), so no refill yet; the fourth refills
    await buf.next(10);
    const x4 = await buf.next(10);
    expect(buf.state().cursor).toBe(70); // 40 + 30 vectors refilled
    expect(Array.from({ length: 10 }, (_, i) => x4[2 * i]).every((v) => v < 70)).toBe(true);
  });

  it('restores exactly from its state', async () => {
    const src = source();
    const a = new ActivationBuffer(src, { contexts: 20, seed: 3 });
    for (let i = 0; i < 7; i++) await a.next(32);
    const st = a.state();
    const b = new ActivationBuffer(src, { contexts: 20, seed: 99 });
    await b.restore(st);
    for (let i = 0; i < 10; i++) expect(await b.next(32)).toEqual(await a.next(32));
  });

  it('bounds memory and reports an exhausted source', async () => {
    expect(() => new ActivationBuffer(memorySource(new Float32Array(1000 * 4), 4, 10), { contexts: 1000, seed: 1, maxBytes: 1000 })).toThrow(/buffer\.maxMiB/);
    const tiny = new ActivationBuffer(memorySource(new Float32Array(20 * 4), 4, 5), { contexts: 2, seed: 1 });
    await expect(tiny.next(16)).rejects.toThrow('buffer.contexts: the shuffle buffer holds 10 vectors (2 contexts × 5), fewer than one batch of 16');
    const small = new ActivationBuffer(memorySource(new Float32Array(20 * 4), 4, 5), { contexts: 4, seed: 1 });
    await small.next(16);
    await expect(small.next(16)).rejects.toThrow(/exhausted after 16 vectors/);
  });

  it('stops on NaN/Inf activations, naming the vector and step', async () => {
    const data = new Float32Array(50 * 3).fill(1);
    data[17 * 3 + 1] = NaN;
    const buf = new ActivationBuffer(memorySource(data, 3, 5), { contexts: 10, seed: 1 });
    await expect((async () => {
      for (let s = 0; s < 10; s++) await buf.next(10, s);
    })()).rejects.toThrow(/activation vector 17 \(component 1\) is NaN in the batch of step \d/);
  });
});

describe('runSweep', () => {
  it('trains every SAE on one stream, writes log-spaced checkpoints and finals', async () => {
    const out = path.join(tmp, 'full');
    const res = await runSweep(spec(), source(), { outDir: out, showProgress: false });
    expect(res.saes.map((s) => s.status)).toEqual(['finished', 'finished', 'finished', 'finished']);
    expect(readdirSync(path.join(out, 'trainer0', 'checkpoints')).sort()).toEqual(['step_0', 'step_1', 'step_16', 'step_2', 'step_32', 'step_4', 'step_5', 'step_8']);
    // the top-k SAE ran 25 steps: no step_32
    expect(existsSync(path.join(out, 'trainer3', 'checkpoints', 'step_32'))).toBe(false);
    const fin = await loadSaeDir(path.join(out, 'trainer2', 'final'));
    expect(fin.config.step).toBe(40);
    expect(fin.config.trainer?.trainer).toBe('p_anneal');
    expect(fin.config.provenance?.sweep).toBe('tiny');
    fin.dictionary.dispose();
    // resume states are cleaned up once an SAE is final; the log has one line per 5 steps + last
    expect(existsSync(path.join(out, 'trainer0', 'resume'))).toBe(false);
    expect(readFileSync(path.join(out, 'trainer0', 'log.jsonl'), 'utf8').trim().split('\n')).toHaveLength(9);
    // running it again does nothing
    const again = await runSweep(spec(), source(), { outDir: out, showProgress: false });
    expect(again.stepsRun).toBe(0);
    expect(tf.memory().numTensors).toBeLessThan(50);
  });

  it('a killed sweep resumes from its last resume point and ends bit-identical to an uninterrupted one', async () => {
    const ref = path.join(tmp, 'full');
    const out = path.join(tmp, 'killed');
    // crash in the middle of step 23 (after the resume point at 20)
    await expect(
      runSweep(spec(), source(), {
        outDir: out,
        showProgress: false,
        hooks: {
          onStep: (step) => {
            if (step === 23) throw new Error('simulated kill');
          },
        },
      }),
    ).rejects.toThrow('simulated kill');
    expect(JSON.parse(readFileSync(path.join(out, 'resume.json'), 'utf8')).step).toBe(20);
    expect(readdirSync(path.join(out, 'trainer1', 'resume'))).toEqual(['step_20']);
    const res = await runSweep(spec(), source(), { outDir: out, showProgress: false });
    expect(res.resumedFrom).toBe(20);
    for (const sae of ['trainer0', 'trainer1', 'trainer2', 'trainer3']) {
      const a = await finalTensors(path.join(ref, sae, 'final'));
      const b = await finalTensors(path.join(out, sae, 'final'));
      for (const k of Object.keys(a)) expect(b[k], `${sae}.${k}`).toEqual(a[k]);
    }
    // the p-anneal log after resume matches the uninterrupted one line for line
    expect(readFileSync(path.join(out, 'trainer2', 'log.jsonl'), 'utf8')).toBe(readFileSync(path.join(ref, 'trainer2', 'log.jsonl'), 'utf8'));
  });

  it('does not redo SAEs that finished before the kill', async () => {
    const out = path.join(tmp, 'partial');
    // top-k (25 steps) finishes before the stop at 30
    await runSweep(spec(), source(), { outDir: out, showProgress: false, stopAfterStep: 30 });
    const finalCfg = path.join(out, 'trainer3', 'final', 'config.json');
    const mtime = statSync(finalCfg).mtimeMs;
    const res = await runSweep(spec(), source(), { outDir: out, showProgress: false });
    expect(res.resumedFrom).toBe(30);
    expect(statSync(finalCfg).mtimeMs).toBe(mtime);
    expect(res.saes.every((s) => s.status === 'finished')).toBe(true);
    const a = await finalTensors(path.join(tmp, 'full', 'trainer1', 'final'));
    const b = await finalTensors(path.join(out, 'trainer1', 'final'));
    expect(b.W_dec).toEqual(a.W_dec);
  });

  it('refuses a different sweep in the same directory', async () => {
    const other = spec({ seed: 10 });
    await expect(runSweep(other, source(), { outDir: path.join(tmp, 'full'), showProgress: false })).rejects.toThrow(/holds a different sweep/);
  });

  it('marks a diverging SAE failed and finishes the others', async () => {
    const s = resolveSweep(
      {
        name: 'div',
        batchSize: 32,
        buffer: { contexts: 20 },
        source: { type: 'synthetic', dIn: D, features: 24, active: 2, contexts: 400, contextLength: 10, seed: 5 },
        defaults: { steps: 12, warmupSteps: 0, expansion: 2 },
        trainers: [{ trainer: 'standard', l1Penalty: 0.1 }, { trainer: 'gated', l1Penalty: 0.1, lr: 1e35 }],
      },
      D,
    );
    const res = await runSweep(s, source(), { outDir: path.join(tmp, 'div'), showProgress: false });
    expect(res.saes[0].status).toBe('finished');
    expect(res.saes[1].status).toBe('failed');
    expect(res.saes[1].error).toMatch(/loss became (NaN|Infinity) at step \d+/);
    expect(existsSync(path.join(tmp, 'div', 'trainer1', 'failed.json'))).toBe(true);
  });

  it('stops on NaN activations with the step named; earlier checkpoints stay intact', async () => {
    const data = new Float32Array(2000 * D).map((_, i) => Math.sin(i));
    data[1500 * D + 3] = Infinity;
    const s = resolveSweep(
      {
        name: 'nan',
        batchSize: 50,
        buffer: { contexts: 100 },
        source: { type: 'activations', path: 'memory' },
        defaults: { steps: 30, warmupSteps: 0, expansion: 2 },
        trainers: [{ trainer: 'standard', l1Penalty: 0.1 }],
      },
      D,
    );
    const out = path.join(tmp, 'nan');
    await expect(runSweep(s, memorySource(data, D, 10), { outDir: out, showProgress: false })).rejects.toThrow(
      /activation vector 1500 \(component 3\) is Infinity in the batch of step \d+/,
    );
    const ck = await loadSaeDir(path.join(out, 'trainer0', 'checkpoints', 'step_16'));
    expect(ck.config.step).toBe(16);
    ck.dictionary.dispose();
  });
});

describe('checkpoint writes are atomic', () => {
  const canMount = (() => {
    if (process.getuid?.() !== 0) return false;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sae-mnt-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir], { stdio: 'ignore' });
      execFileSync('umount', [dir], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();

  it.skipIf(!canMount)('a full disk leaves the previous checkpoint complete and no temp files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sae-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
    try {
      const cfg = spec().saes[0].config;
      const big = { ...cfg, dictSize: 2048 }; // ~130 KiB of weights per checkpoint
      const dict = initDictionary(big);
      const target = path.join(dir, 'trainer0', 'checkpoints', 'step_1');
      await writeSaeCheckpoint(target, dict, big, { step: 1, tokensSeen: 32 });
      writeFileSync(path.join(dir, 'filler'), Buffer.alloc(100 * 1024));
      await expect(writeSaeCheckpoint(target, dict, big, { step: 2, tokensSeen: 64 })).rejects.toThrow(/ENOSPC/);
      const kept = await loadSaeDir(target);
      expect(kept.config.step).toBe(1);
      kept.dictionary.dispose();
      expect(readdirSync(path.dirname(target))).toEqual(['step_1']);
      dict.dispose();
    } finally {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

