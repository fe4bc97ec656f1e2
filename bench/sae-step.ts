/**
 * bench/sae-step: ms per SAE training step and achieved GFLOPS (counted as 12·B·d·F, the six
 * GEMMs of the standard SAE step, for every trainer so the numbers compare), d = 512, F = 4096,
 * B = 2048 and 8192, for the standard, gated, p-anneal and top-k trainers, each on the fused native
 * step and the pure-tfjs reference step — next to PyTorch CPU
 * running the same steps in the same run (bench/peers/torch_sae_step.py, Debian's python3-torch,
 * same OpenBLAS environment).
 *
 *   npm run bench -- sae-step [--batches 2048,8192] [--trainers standard,gated,p_anneal,top_k] [--reps 3,2] [--no-peer]
 *   (also gated_anneal, batch_top_k, jump_relu: timed without a PyTorch peer)
 *   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE npm run bench -- sae-step     # the AVX-512 kernel
 *
 * The GEMM floor at ~470 GFLOPS (research/perf.md §4) is 109 ms (B=2048) / 437 ms (B=8192).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { backendInfo, initBackend, tf } from '../src/tensor/backend.js';
import { resolveTrainerConfig } from '../src/sae/config.js';
import { saeNativeUnavailableReason } from '../src/sae/native.js';
import { Rng } from '../src/sae/rng.js';
import { createTrainer } from '../src/sae/trainers/index.js';
import { PROJECT_ROOT } from '../src/version.js';
import type { Bench } from './harness.js';

const run = promisify(execFile);
const PEER_TRAINERS = ['standard', 'gated', 'p_anneal', 'top_k'];

function trainerConfig(trainer: string, B: number, d: number, F: number) {
  const base = { dIn: d, dictSize: F, batchSize: B, steps: 1000, warmupSteps: 0 };
  switch (trainer) {
    case 'standard':
    case 'gated':
      return resolveTrainerConfig({ trainer, ...base, l1Penalty: trainer === 'standard' ? 0.05 : 1 });
    case 'p_anneal':
      // p < 1 from the first step, as after annealing starts (the costlier branch)
      return resolveTrainerConfig({ trainer, ...base, initialSparsityPenalty: 0.05, pStart: 0.5, annealStart: 500 });
    case 'top_k':
    case 'batch_top_k':
      return resolveTrainerConfig({ trainer, ...base, k: 64 });
    case 'gated_anneal':
      return resolveTrainerConfig({ trainer, ...base, initialSparsityPenalty: 1, pStart: 0.5, annealStart: 500 });
    case 'jump_relu':
      return resolveTrainerConfig({ trainer, ...base, sparsityWarmupSteps: 0 });
    default:
      throw new Error(`sae-step: unknown trainer ${trainer}`);
  }
}

export default async function bench(h: Bench): Promise<void> {
  await initBackend();
  const info = backendInfo();
  const d = Number(h.option('d', '512'));
  const F = Number(h.option('f', '4096'));
  const batches = h.option('batches', '2048,8192').split(',').map(Number);
  const trainers = h.option('trainers', 'standard,gated,p_anneal,top_k').split(',');
  const reps = h.option('reps', '3,2').split(',').map(Number);
  const withPeer = !h.args.includes('--no-peer');
  const blasEnv = { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? null, OPENBLAS_L2_SIZE: process.env.OPENBLAS_L2_SIZE ?? null };

  const ours = new Map<string, { median: number; min: number }>();
  const native = saeNativeUnavailableReason() === '';
  for (const [bi, B] of batches.entries()) {
    const x = tf.tensor2d(new Rng(1).fillNormal(new Float32Array(B * d)), [B, d]);
    for (const name of trainers) {
      // every trainer has a fused native step; time the pure-tfjs reference next to it
      const engines: ('tfjs' | 'native' | 'auto')[] = native ? ['tfjs', 'native'] : ['auto'];
      for (const engine of engines) {
        if (engine === 'auto') delete process.env.SAEBOARD_SAE_ENGINE;
        else process.env.SAEBOARD_SAE_ENGINE = engine;
        const t = createTrainer(trainerConfig(name, B, d, F));
        const before = tf.memory().numTensors;
        const s = await h.time(() => t.update(x), { reps: reps[bi] ?? reps[reps.length - 1], warmup: 1 });
        const leak = tf.memory().numTensors - before;
        t.dispose();
        const flops = 12 * B * d * F;
        const best = ours.get(`${name}/${B}`);
        if (!best || s.median < best.median) ours.set(`${name}/${B}`, { median: s.median, min: s.min });
        const label = engine !== 'auto' ? engine : 'tfjs';
        h.record(`${name} B=${B} ${label}`, {
          engine: label,
          backend: info?.name,
          kernels: info?.kernels,
          blasCore: info?.blasCore,
          blasEnv,
          B,
          d,
          F,
          msMedian: Math.round(s.median * 10) / 10,
          msMin: Math.round(s.min * 10) / 10,
          gflopsMedian: Math.round((flops / (s.median / 1000) / 1e9) * 10) / 10,
          reps: s.reps,
          tensorsLeaked: leak,
        });
      }
    }
    x.dispose();
  }

  // the PyTorch peer implements the paper's four trainers; the others are timed without a peer
  const peerTrainers = trainers.filter((t) => PEER_TRAINERS.includes(t));
  if (!withPeer || peerTrainers.length === 0) return;
  let out: string;
  try {
    const r = await run('/usr/bin/python3', [
      path.join(PROJECT_ROOT, 'bench', 'peers', 'torch_sae_step.py'),
      '--d', String(d), '--f', String(F), '--batches', batches.join(','), '--trainers', peerTrainers.join(','), '--reps', reps.join(','),
    ], { maxBuffer: 1 << 20 });
    out = r.stdout;
  } catch (err) {
    h.record('torch peer', { error: `could not run the PyTorch peer (/usr/bin/python3 with python3-torch): ${(err as Error).message.split('\n')[0]}` });
    return;
  }
  for (const line of out.trim().split('\n')) {
    const p = JSON.parse(line) as { trainer: string; B: number; median_ms: number; min_ms: number; torch: string; threads: number };
    const o = ours.get(`${p.trainer}/${p.B}`);
    h.record(`torch ${p.trainer} B=${p.B}`, {
      peer: `pytorch ${p.torch} (${p.threads} threads)`,
      blasEnv,
      msMedian: Math.round(p.median_ms * 10) / 10,
      msMin: Math.round(p.min_ms * 10) / 10,
      gflopsMedian: Math.round(((12 * p.B * d * F) / (p.median_ms / 1000) / 1e9) * 10) / 10,
      // > 1 means saeboard (its fastest engine for this trainer) is faster
      speedupVsTorch: o ? Math.round((p.median_ms / o.median) * 100) / 100 : null,
    });
  }
}
