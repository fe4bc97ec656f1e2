/**
 * bench/sae-step: ms per SAE training step and achieved GFLOPS (counted as 12·B·d·F, the six
 * GEMMs of the standard SAE step, for every trainer so the numbers compare), d = 512, F = 4096,
 * B = 2048 and 8192, for the standard, gated, p-anneal and top-k trainers, on the fused native
 * step (and with --engines native,tfjs the pure-tfjs reference step) — next to PyTorch CPU
 * running the same steps in the same run (bench/peers/torch_sae_step.py, Debian's python3-torch,
 * same OpenBLAS environment).
 *
 *   npm run bench -- sae-step [--batches 2048,8192] [--trainers standard,gated,p_anneal,top_k] [--reps 5]
 *                             [--engines native,tfjs] [--no-peer] [--no-addon] [--prebuilt] [--profile]
 *                             [--l0 64]
 *   (also gated_anneal, batch_top_k, jump_relu: timed without a PyTorch peer)
 *   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE npm run bench -- sae-step     # the AVX-512 kernel
 *
 * --no-addon and --prebuilt add another install's path as a side, in a child process
 * (bench/peers/sae_step_child.ts): --no-addon with SAEBOARD_NATIVE=off (wasm+js with the matmul
 * worker pool, the tfjs step: no compiler and no usable prebuilt addon), --prebuilt with
 * SAEBOARD_PREBUILT=only (the committed prebuilt addons, own SGEMM: no compiler on linux-x64). Each
 * records its time over each engine's (`noAddonVsThis`, `prebuiltVsThis`; the issue's goal for an
 * install without a compiler: ≤ 4× the OpenBLAS step).
 *
 * Each trainer's engines and the peer run interleaved (A, B, A, B, …, Bench.compare), 5 steps each
 * by default; --profile adds the native step's time per phase (GEMMs, element-wise, Adam, copies,
 * and the JS outside the native call), from extra untimed-by-compare steps. --engines
 * native,native-openblas,native-own-gemm times the fused step on the default GEMM
 * (SAEBOARD_GEMM=auto; each record's `gemm` says which it took), on OpenBLAS and on saeboard's
 * own SGEMM;
 * native-dense is the top-k step with dense GEMMs in its backward (the sparse products' baseline).
 *
 * --l0 N (standard, p_anneal, gated, jump_relu) times the step at a trained SAE's sparsity instead
 * of at initialisation, where about half of f is nonzero: each side sets every feature's encoder
 * bias (the gate's bias for gated, the threshold for JumpReLU) so that N features fire per row on
 * the bench batch (per feature,
 * the threshold between its (B·N/F)-th and next largest pre-activation), the same rule in the
 * PyTorch peer. The native steps then take their sparse decoder paths (f ≤ 1/16 dense); PyTorch's
 * steps stay dense.
 *
 * The GEMM floor at ~470 GFLOPS (research/perf.md §4) is 109 ms (B=2048) / 437 ms (B=8192).
 */
import path from 'node:path';
import { backendInfo, initBackend, tf } from '../src/tensor/backend.js';
import { loadNative } from '../src/tensor/kernels/native.js';
import { resolveTrainerConfig } from '../src/sae/config.js';
import { loadSaeNative, saeNativeUnavailableReason } from '../src/sae/native.js';
import { Rng } from '../src/sae/rng.js';
import { createDictionary } from '../src/sae/dictionary.js';
import { createTrainer, initDictionary } from '../src/sae/trainers/index.js';
import { PROJECT_ROOT } from '../src/version.js';
import { COMPARE_REPS, sideSummary, type Bench, type Side } from './harness.js';
import { PeerProcess, startTorchPeer } from './lib/peer.js';

const PEER_TRAINERS = ['standard', 'gated', 'p_anneal', 'top_k'];

export function trainerConfig(trainer: string, B: number, d: number, F: number) {
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
  const reps = h.option('reps', String(COMPARE_REPS)).split(',').map(Number);
  const native = saeNativeUnavailableReason() === '';
  // the fused native step when built (the pure-tfjs reference step too with --engines native,tfjs)
  // native-openblas / native-own-gemm: the fused step on OpenBLAS or saeboard's own SGEMM
  // (SAEBOARD_SAE_GEMM=openblas|own) instead of the default (auto) choice
  const engines = h.option('engines', native ? 'native' : 'tfjs').split(',') as Engine[];
  for (const e of engines) if (!ENGINES.includes(e)) throw new Error(`sae-step: unknown engine ${e} (known: ${ENGINES.join(', ')})`);
  if (!native && engines.some((e) => e !== 'tfjs')) throw new Error(`sae-step: the native step is not available: ${saeNativeUnavailableReason()}`);
  const blasEnv = { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? null, OPENBLAS_L2_SIZE: process.env.OPENBLAS_L2_SIZE ?? null };
  const peerTrainers = trainers.filter((t) => PEER_TRAINERS.includes(t));
  const started = h.args.includes('--no-peer') || peerTrainers.length === 0 ? null : await startTorchPeer(path.join(PROJECT_ROOT, 'bench', 'peers', 'torch_sae_step.py'));
  if (started?.error) h.record('torch peer', { error: started.error });
  const peer = started?.peer ?? null;
  // --no-addon / --prebuilt: another install's path in a child process, interleaved with the
  // in-process engines (CHILD_SIDES)
  const children = CHILD_SIDES.filter((c) => h.args.includes(c.flag)).map((c) => ({
    ...c,
    peer: new PeerProcess(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'bench', 'peers', 'sae_step_child.ts')], { ...process.env, ...c.env }),
  }));
  const l0 = h.option('l0', '') === '' ? null : Number(h.option('l0', ''));
  if (l0 !== null) {
    if (!(l0 > 0 && l0 < F)) throw new Error(`sae-step: --l0 must be between 0 and F = ${F}, got ${h.option('l0', '')}`);
    const others = trainers.filter((t) => !L0_TRAINERS.includes(t));
    if (others.length > 0) throw new Error(`sae-step: --l0 applies to ${L0_TRAINERS.join(' and ')} only, not ${others.join(', ')}`);
  }
  const saved = process.env.SAEBOARD_SAE_ENGINE;
  try {
    for (const [bi, B] of batches.entries()) {
      const x = tf.tensor2d(new Rng(1).fillNormal(new Float32Array(B * d)), [B, d]);
      const flops = 12 * B * d * F;
      const gflops = (ms: number) => Math.round((flops / (ms / 1000) / 1e9) * 10) / 10;
      for (const name of trainers) {
        const made = engines.map((engine) => {
          process.env.SAEBOARD_SAE_ENGINE = engine === 'tfjs' ? 'tfjs' : 'native';
          const cfg = trainerConfig(name, B, d, F);
          return { engine, trainer: createTrainer(cfg, l0 === null ? undefined : sparseDictionary(cfg, x, l0)) };
        });
        const sides: Side[] = made.map(({ engine, trainer }) => ({
          name: engine,
          step: () => {
            useGemm(engine);
            return trainer.update(x);
          },
        }));
        let meta: Record<string, unknown> | null = null;
        if (peer && PEER_TRAINERS.includes(name)) {
          meta = await peer.setup({ trainer: name, B, d, F, ...(l0 === null ? {} : { l0 }) });
          sides.push({ name: 'torch', step: () => peer.step() });
        }
        const childMeta: Record<string, Record<string, unknown>> = {};
        for (const c of children) {
          childMeta[c.name] = await c.peer.setup({ trainer: name, B, d, F, ...(l0 === null ? {} : { l0 }) });
          sides.push({ name: c.name, step: () => c.peer.step() });
        }
        const before = tf.memory().numTensors;
        const r = reps[bi] ?? reps[reps.length - 1];
        const profiles = made.map(() => ({}) as Record<string, unknown>);
        const cmp =
          sides.length > 1
            ? await h.compare(sides, { reps: r, warmup: 1 })
            : await (async () => {
                const t = await h.time(sides[0].step, { reps: r, warmup: 1 });
                return { sides: { [sides[0].name]: t }, order: [], ratioOfMedians: 1, load1Before: undefined, load1After: undefined, loaded: undefined, settleMs: 0 };
              })();
        if (profileWanted(h)) {
          // a separate, untimed-by-compare pass: the phase timers cost a clock read per phase
          for (const [i, m] of made.entries()) {
            if (m.engine === 'tfjs') continue;
            Object.assign(profiles[i], await profileNative(() => (useGemm(m.engine), m.trainer.update(x)), r));
          }
        }
        const leak = tf.memory().numTensors - before;
        for (const m of made) m.trainer.dispose();
        const torch = cmp.sides.torch;
        for (const [i, { engine }] of made.entries()) {
          const s = cmp.sides[engine];
          h.record(`${name} B=${B}${l0 === null ? '' : ` L0=${l0}`} ${engine}`, {
            engine,
            ...(l0 === null ? {} : { l0Target: l0 }),
            backend: info?.name,
            kernels: info?.kernels,
            blasCore: info?.blasCore,
            blasEnv,
            gemm: engineGemm(engine),
            B,
            d,
            F,
            ...sideSummary(s),
            gflopsMedian: gflops(s.median),
            tensorsLeaked: leak,
            ...(torch
              ? {
                  torch: { version: meta?.torch, threads: meta?.threads, ...sideSummary(torch), gflopsMedian: gflops(torch.median) },
                  // > 1: saeboard is faster (ratio of the medians, interleaved in this run)
                  speedupVsTorch: Math.round((torch.median / s.median) * 100) / 100,
                  order: 'interleaved',
                  settleMs: cmp.settleMs,
                }
              : {}),
            // each child side's time over this engine's (interleaved in this run): noAddonVsThis
            // (goal ≤ 4), prebuiltVsThis
            ...Object.fromEntries(
              children.flatMap((c) => {
                const side = cmp.sides[c.name];
                return [
                  [c.key, { ...childMeta[c.name], ready: undefined, ...sideSummary(side), gflopsMedian: gflops(side.median) }],
                  [`${c.key}VsThis`, Math.round((side.median / s.median) * 100) / 100],
                ];
              }),
            ),
            ...(children.length > 0 ? { order: 'interleaved', settleMs: cmp.settleMs } : {}),
            ...(Object.keys(profiles[i]).length ? { profileMsPerStep: profiles[i] } : {}),
            ...(cmp.loaded !== undefined ? { load1Before: cmp.load1Before, load1After: cmp.load1After, loaded: cmp.loaded } : {}),
          });
        }
      }
      x.dispose();
    }
  } finally {
    delete process.env.SAEBOARD_SAE_GEMM;
    delete process.env.SAEBOARD_SAE_SPARSE;
    if (saved === undefined) delete process.env.SAEBOARD_SAE_ENGINE;
    else process.env.SAEBOARD_SAE_ENGINE = saved;
    await peer?.close();
    for (const c of children) await c.peer.close();
  }
}

function profileWanted(h: Bench): boolean {
  return h.args.includes('--profile');
}

const L0_TRAINERS = ['standard', 'p_anneal', 'gated', 'jump_relu'];

/**
 * A fresh ReLU or gated dictionary for `cfg` whose encoder biases (the gate's, for gated) make
 * `l0` features fire per row of x: each feature's bias is minus the midpoint of its (B·l0/F)-th
 * and next largest value of (x − b_dec)·W_enc, so that many rows fire it, as in an SAE whose L0
 * training has brought down.
 */
export function sparseDictionary(cfg: ReturnType<typeof trainerConfig>, x_BD: tf.Tensor2D, l0: number) {
  const init = initDictionary(cfg);
  const tensors = Object.fromEntries(Object.entries(init.toHost()).map(([k, v]) => [k, v.data]));
  init.dispose();
  const B = x_BD.shape[0];
  const rows = Math.max(1, Math.min(B - 1, Math.round((B * l0) / cfg.dictSize)));
  const thresholds_F = tf.tidy(() => {
    const pre_FB = tf.matMul(x_BD.sub(tf.tensor1d(tensors.b_dec)), tf.tensor2d(tensors.W_enc, [cfg.dIn, cfg.dictSize])).transpose();
    const { values } = tf.topk(pre_FB, rows + 1);
    return values.slice([0, rows - 1], [-1, 1]).add(values.slice([0, rows], [-1, 1])).div(2).reshape([-1]);
  });
  const t = thresholds_F.dataSync();
  thresholds_F.dispose();
  if (cfg.dictionary === 'jump_relu') {
    // JumpReLU fires where the pre-activation passes its threshold: the threshold is the midpoint
    tensors.b_enc.fill(0);
    for (let k = 0; k < cfg.dictSize; k++) tensors.threshold[k] = t[k];
  } else {
    const bias = cfg.dictionary === 'gated' ? tensors.b_gate : tensors.b_enc;
    for (let k = 0; k < cfg.dictSize; k++) bias[k] = -t[k];
  }
  return createDictionary(cfg.dictionary, cfg.dIn, cfg.dictSize, tensors);
}

/** Sides that run in a child process (bench/peers/sae_step_child.ts) with their own environment. */
const CHILD_SIDES = [
  // the path of an install with no compiler and no usable prebuilt addon: wasm+js, the tfjs step
  { flag: '--no-addon', name: 'no-addon', key: 'noAddon', env: { SAEBOARD_NATIVE: 'off' } },
  // the path of an install without a C compiler on linux-x64: the committed prebuilt addons
  { flag: '--prebuilt', name: 'prebuilt', key: 'prebuilt', env: { SAEBOARD_PREBUILT: 'only' } },
] as const;

type Engine = 'native' | 'native-openblas' | 'native-own-gemm' | 'native-dense' | 'tfjs';
const ENGINES: Engine[] = ['native', 'native-openblas', 'native-own-gemm', 'native-dense', 'tfjs'];

/**
 * The GEMM the native step uses from its next call (the C side reads the variables every step):
 * native-openblas / native-own-gemm = OpenBLAS / saeboard's own SGEMM (SAEBOARD_SAE_GEMM=openblas|own),
 * the others the default (auto); native-dense = the top-k
 * backward with dense GEMMs instead of its sparse products (SAEBOARD_SAE_SPARSE=0).
 */
function useGemm(engine: Engine): void {
  if (engine === 'native-own-gemm') process.env.SAEBOARD_SAE_GEMM = 'own';
  else if (engine === 'native-openblas') process.env.SAEBOARD_SAE_GEMM = 'openblas';
  else delete process.env.SAEBOARD_SAE_GEMM;
  if (engine === 'native-dense') process.env.SAEBOARD_SAE_SPARSE = '0';
  else delete process.env.SAEBOARD_SAE_SPARSE;
}

/** The GEMM an engine's native step takes: its forced one, else what SAEBOARD_GEMM (auto) picks. */
function engineGemm(engine: Engine): string | null {
  if (engine === 'tfjs') return null;
  if (engine === 'native-own-gemm') return 'own';
  if (engine === 'native-openblas') return 'openblas';
  return loadNative().addon?.info().gemm ?? null;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/**
 * Where a native step's time goes, mean ms per step over `reps` steps: per kind (gemm, elementwise,
 * adam, copy: the C side's phase timers), `outsideNative` (the wall time of trainer.update minus the
 * native phases: the JS around the call, locating tensors, reading the stats back) and per phase.
 */
async function profileNative(step: () => unknown, reps: number): Promise<Record<string, unknown>> {
  const addon = loadSaeNative();
  if (!addon?.profile) return {};
  addon.profile(true);
  try {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await step();
    const wall = (performance.now() - t0) / reps;
    const { phases, kinds } = addon.profile(false);
    const nativeMs = Object.values(kinds).reduce((a, b) => a + b, 0) / reps;
    return {
      stepMs: round1(wall),
      ...Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, round1(v / reps)])),
      outsideNative: round1(wall - nativeMs),
      phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round1(v / reps)])),
    };
  } finally {
    addon.profile(false);
  }
}
