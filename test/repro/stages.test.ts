/** The reproduction pipeline's shape at every scale: valid configs, the paper's grid at --scale paper, resumable names. */
import { describe, expect, it } from 'vitest';
import { validateJobConfig } from '../../src/jobs/kinds.js';
import { logCheckpointSteps, parseScale, REPRO_SCALES, REPRO_TRAINERS, reproduceStages, topKValues } from '../../src/jobs/reproduce.js';
import { resolveSweep } from '../../src/sae/sweepConfig.js';

type Sweep = { name: string; batchSize: number; defaults: { steps: number }; trainers: Record<string, unknown>[] };

function sweeps(game: 'othello' | 'chess', scale: string) {
  return reproduceStages('/tmp/h', game, parseScale(scale))
    .filter((s) => s.kind === 'TRAIN_SAE_SWEEP')
    .map((s) => (s.config as { sweep: Sweep }).sweep);
}

describe('reproduce stages', () => {
  it('every stage validates at every scale, for both games', () => {
    for (const game of ['othello', 'chess'] as const) {
      for (const scale of ['tiny', 'small', '3', 'paper']) {
        const stages = reproduceStages('/tmp/h', game, parseScale(scale));
        expect(stages.map((s) => s.kind)).toEqual(['GENERATE_DATASET', 'GENERATE_DATASET', 'COLLECT_ACTIVATIONS', 'TRAIN_SAE_SWEEP', 'EVALUATE', 'EVALUATE', 'PROBE', 'COLLECT_ACTIVATIONS', 'TRAIN_SAE_SWEEP', 'EVALUATE', 'EVALUATE']);
        for (const s of stages) expect(() => validateJobConfig(s.kind, s.config)).not.toThrow();
        for (const [i, s] of stages.entries()) for (const d of s.dependsOn ?? []) expect(d).toBeLessThan(i);
        for (const sw of sweeps(game, scale)) {
          const dIn = game === 'othello' ? 320 : 192;
          expect(resolveSweep({ ...sw, source: { type: 'synthetic', dIn, features: 8, active: 2, contexts: 4 } }, dIn, 'sweep').saes.length).toBe(sw.trainers.length);
        }
      }
    }
  });

  it('--scale paper is the paper: 300M tokens, batch 8192, 40 SAEs per trainer on the trained LM, Standard on the random one', () => {
    const [trained, random] = sweeps('othello', 'paper');
    expect(trained.defaults.steps).toBe(36_621); // 36,621 × 8192 ≈ 300M tokens (trainers.md)
    expect(Math.abs(trained.batchSize * trained.defaults.steps - 300e6)).toBeLessThan(1e6);
    expect(trained.batchSize).toBe(8192);
    for (const t of REPRO_TRAINERS) expect(trained.trainers.filter((e) => e.trainer === t).length).toBe(40);
    expect(new Set(trained.trainers.map((e) => e.expansion))).toEqual(new Set([8, 16]));
    expect(random.trainers.every((e) => e.trainer === 'standard')).toBe(true);
    expect(random.trainers.length).toBe(40);
    // the paper's Othello ranges (trainers.md §6), ends included
    const gated = trained.trainers.filter((e) => e.trainer === 'gated').map((e) => e.l1Penalty as number);
    expect(Math.min(...gated)).toBe(1);
    expect(Math.max(...gated)).toBe(2);
  });

  it('--scale N multiplies the tokens and the SAEs of small', () => {
    const [s1] = sweeps('chess', 'small');
    const [s2] = sweeps('chess', '2');
    expect(s2.defaults.steps).toBe(2 * s1.defaults.steps);
    expect(s2.trainers.length).toBe(2 * s1.trainers.length);
    expect(parseScale('2').trainGames.chess).toBe(2 * REPRO_SCALES.small.trainGames.chess);
    expect(() => parseScale('huge')).toThrow(/--scale/);
    expect(() => parseScale('0')).toThrow(/--scale/);
  });

  it('checkpoints are log-spaced; k values fit the smaller dictionary', () => {
    expect(logCheckpointSteps(800, 3)).toEqual([13, 50, 200]);
    expect(topKValues(40, 8 * 512)).toHaveLength(40);
    expect(Math.max(...topKValues(3, 320))).toBeLessThanOrEqual(160);
  });
});
