/**
 * Defaults a newcomer can run (docs/sae.md "Defaults"): every trainer resolves with nothing but
 * its name, d_in and steps; step-valued defaults shrink with short runs; and the minimal command
 * `saeboard sae train -t <trainer> --activations DIR -o OUT` trains every trainer on a tiny
 * activation set, with a notice saying which steps and batch it chose. Truly wrong values still fail.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXPANSION, DEFAULT_SPARSITY, PAPER_STEPS, resolveTrainerConfig, TRAINER_NAMES, type TrainerConfig } from '../../src/sae/config.js';
import { fitStepsToData } from '../../src/sae/sweepConfig.js';
import { initBackend } from '../../src/tensor/backend.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { makeLm, makeOthelloDataset } from '../eval/fixtures.js';

const exec = promisify(execFile);

async function saeboard(args: string[]) {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, SAEBOARD_LOG_LEVEL: 'warn', DATABASE_URL: '' },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('trainer config defaults', () => {
  it('every trainer resolves from its name, d_in and steps, with the paper values at its length', () => {
    for (const trainer of TRAINER_NAMES) {
      const c = resolveTrainerConfig({ trainer, dIn: 512, steps: PAPER_STEPS }) as TrainerConfig & Record<string, number>;
      expect(c.dictSize, trainer).toBe(DEFAULT_EXPANSION * 512);
      expect(c.warmupSteps, trainer).toBe(trainer === 'top_k' ? 0 : 1000);
      for (const [k, v] of Object.entries((DEFAULT_SPARSITY as Record<string, Record<string, number>>)[trainer] ?? {})) expect(c[k], `${trainer}.${k}`).toBe(v);
    }
    const p = resolveTrainerConfig({ trainer: 'p_anneal', dIn: 512, steps: PAPER_STEPS }) as unknown as Record<string, unknown>;
    expect([p.annealStart, p.annealEnd, p.nSparsityUpdates]).toEqual([10_000, PAPER_STEPS, 10]);
    expect((resolveTrainerConfig({ trainer: 'batch_top_k', dIn: 512, steps: PAPER_STEPS }) as unknown as Record<string, unknown>).thresholdStartStep).toBe(1000);
    expect((resolveTrainerConfig({ trainer: 'jump_relu', dIn: 512, steps: PAPER_STEPS }) as unknown as Record<string, unknown>).sparsityWarmupSteps).toBe(2000);
    expect((resolveTrainerConfig({ trainer: 'top_k', dIn: 512, steps: PAPER_STEPS }) as unknown as Record<string, unknown>).decayStart).toBe(24_000);
    // the paper's values are the defaults: the sweep presets resolve to the same hash-relevant fields
    expect(resolveTrainerConfig({ trainer: 'standard', dIn: 512, steps: PAPER_STEPS, expansion: 8, l1Penalty: 0.06 })).toEqual(resolveTrainerConfig({ trainer: 'standard', dIn: 512, steps: PAPER_STEPS }));
    // longer runs keep dictionary_learning's absolute warm-ups
    expect(resolveTrainerConfig({ trainer: 'standard', dIn: 8, steps: 100_000 }).warmupSteps).toBe(1000);
  });

  it('step-valued defaults shrink with short runs and stay below steps', () => {
    for (const steps of [1, 2, 3, 11, 100, 5000]) {
      for (const trainer of TRAINER_NAMES) {
        const c = resolveTrainerConfig({ trainer, dIn: 8, steps }) as TrainerConfig & Record<string, number>;
        expect(c.warmupSteps === 0 || c.warmupSteps < steps, `${trainer} ${steps}`).toBe(true);
        if (c.decayStart !== null) expect(c.decayStart).toBeLessThan(steps);
        if (trainer === 'jump_relu') expect(c.sparsityWarmupSteps === 0 || c.sparsityWarmupSteps < steps).toBe(true);
        if (trainer === 'batch_top_k') expect(c.thresholdStartStep).toBeLessThanOrEqual(Math.max(0, steps - 1));
      }
    }
    expect(resolveTrainerConfig({ trainer: 'standard', dIn: 8, steps: 100 }).warmupSteps).toBe(3); // round(1000·100/36621)
    const p = resolveTrainerConfig({ trainer: 'p_anneal', dIn: 8, steps: 3 }) as unknown as Record<string, unknown>;
    expect([p.annealStart, p.annealEnd, p.nSparsityUpdates]).toEqual([1, 3, 3]);
    expect((resolveTrainerConfig({ trainer: 'top_k', dIn: 2, steps: 10 }) as unknown as Record<string, unknown>).k).toBe(4); // at most dictSize/4
  });

  it('values that are truly wrong still fail, naming the field', () => {
    expect(() => resolveTrainerConfig({ trainer: 'standard', dIn: 8, steps: 100, warmupSteps: 100 })).toThrow('config.warmupSteps: must be < steps (100)');
    expect(() => resolveTrainerConfig({ trainer: 'top_k', dIn: 8, steps: 100, k: 65 })).toThrow('config.k: must be <= dictSize (64)');
    expect(() => resolveTrainerConfig({ trainer: 'gated', dIn: 8, steps: 100, l1Penalty: 0 })).toThrow('config.l1Penalty: expected a number > 0');
    expect(() => resolveTrainerConfig({ trainer: 'standard', dIn: 8, steps: 100, expansion: 2, dictSize: 8 })).toThrow('config.dictSize: conflicts with expansion 2');
    expect(() => resolveTrainerConfig({ trainer: 'p_anneal', dIn: 8, steps: 100, nSparsityUpdates: 200 })).toThrow('config.nSparsityUpdates: must be <=');
  });

  it('fits steps (and the batch, unless given) to one pass over the data', () => {
    expect(fitStepsToData(2832, {})).toEqual({ steps: 11, batchSize: 256 });
    expect(fitStepsToData(1e9, {})).toEqual({ steps: PAPER_STEPS, batchSize: 8192 });
    expect(fitStepsToData(8192 * 1000, {})).toEqual({ steps: 1000, batchSize: 8192 });
    expect(fitStepsToData(8192 * 999, {})).toEqual({ steps: 1998, batchSize: 4096 });
    expect(fitStepsToData(100_000, { batchSize: 1000 })).toEqual({ steps: 100, batchSize: 1000 });
    expect(fitStepsToData(100, {})).toEqual({ steps: 0, batchSize: 256 }); // the CLI refuses: fewer than one batch
    expect(fitStepsToData(1e9, { steps: 5 })).toBeNull();
  });
});

describe('saeboard sae train with nothing but the trainer, the activations and --out', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-sae-defaults-'));
  const acts = path.join(tmp, 'acts');
  beforeAll(async () => {
    await initBackend();
    await makeOthelloDataset(path.join(tmp, 'data'), 40); // 20 train games × 59 positions
    await makeLm(path.join(tmp, 'lm'), 'othello', 1); // d_model 16
    const r = await saeboard(['lm', 'activations', '--model', path.join(tmp, 'lm'), '--layer', '1', '--dataset', path.join(tmp, 'data'), '--out', acts, '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('trains every trainer; the notice names the fitted steps and batch', async () => {
    const runs: Record<string, Awaited<ReturnType<typeof saeboard>>> = {};
    for (let i = 0; i < TRAINER_NAMES.length; i += 3) {
      await Promise.all(
        TRAINER_NAMES.slice(i, i + 3).map(async (t) => {
          runs[t] = await saeboard(['sae', 'train', '-t', t, '--activations', acts, '--out', path.join(tmp, t), '--no-progress']);
        }),
      );
    }
    for (const t of TRAINER_NAMES) {
      const r = runs[t];
      expect(r.code, `${t}: ${r.stderr}`).toBe(0);
      expect(r.stderr.trim().split('\n'), t).toEqual([`saeboard: notice: training 4 steps × batch 256 = one pass over the 1180 vectors of ${acts}; set --steps/--batch-size to choose`]);
      expect(r.stdout).toMatch(new RegExp(`trainer0\\s+${t}\\s+m=128\\s.*finished`));
      const final = path.join(tmp, t, 'trainer0', 'final');
      expect(existsSync(path.join(final, 'ae.safetensors')), t).toBe(true);
      const cfg = JSON.parse(readFileSync(path.join(final, 'config.json'), 'utf8')) as { trainer: TrainerConfig & Record<string, number> };
      expect(cfg.trainer.steps).toBe(4);
      expect(cfg.trainer.batchSize).toBe(256);
      expect(cfg.trainer.dictSize).toBe(DEFAULT_EXPANSION * 16);
      expect(cfg.trainer.warmupSteps).toBe(0); // round(1000·4/36621)
    }
  }, 300_000);

  it('explicit values that the data cannot serve are still errors, with what to do', async () => {
    const r = await saeboard(['sae', 'train', '-t', 'standard', '--activations', acts, '--out', path.join(tmp, 'too-long'), '--steps', '100']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `saeboard: error: --steps 100 × batch 8192 need 819200 activation vectors but ${acts} holds 1180; leave out --steps (one pass over the data), lower it, or pass --repeat to cycle through the set`,
    );
    expect(existsSync(path.join(tmp, 'too-long'))).toBe(false);
  }, 120_000);
});
