/**
 * The fused native SAE step (native/sae/sae_step.c, built with the other native kernels by
 * scripts/build-native.mjs into native/build/Release/saeboard_sae.node, or the committed prebuilt
 * one in native/prebuilt on installs without a compiler): forward + backward + ConstrainedAdam of the ReLU SAE in
 * one call working in place on the tfjs wasm heap. Used by every trainer (standard, p-annealing,
 * gated, gated-annealing, top-k, batch-top-k, JumpReLU) when available (wasm backend + built addon); the pure-tfjs step stays the reference and the
 * fallback. SAEBOARD_SAE_ENGINE=tfjs|native|auto (default auto) chooses. SAEBOARD_SAE_GEMM (else
 * SAEBOARD_GEMM) = auto | own | openblas picks the native step's GEMM (gemmSetting()).
 */
import { createRequire } from 'node:module';
import { tf } from '../tensor/backend.js';
import { configuredThreads, nativeDisabledReason, resolveAddonFile } from '../tensor/kernels/native.js';
import { heapOffset, wasmHeap, type WasmBackendLike } from '../tensor/kernels/wasm_backend.js';
import { setTopKMaskNative } from './ops.js';
import type { Adam } from './optim.js';
import { UserInputError } from '../errors.js';

export interface SaeNativeAddon {
  reluStep(heap: ArrayBuffer, offsets: Float64Array, dims: Float64Array, hyper: Float64Array, stats: Float64Array, fired: Float32Array): void;
  /** mask[r, i] = 1 where v[r, i] ≥ the k-th largest of row r (offsets in float32 elements). */
  topkMask(heap: ArrayBuffer, vOffset: number, maskOffset: number, rows: number, cols: number, k: number): void;
  /**
   * The fused top-k / batch-top-k step (native/sae/sae_step.c TopkStep); updates
   * tokensSinceFired in place (AuxK's dead set uses this batch's firing, as the reference does).
   */
  topkStep(heap: ArrayBuffer, offsets: Float64Array, dims: Float64Array, hyper: Float64Array, stats: Float64Array, fired: Float32Array, tokensSinceFired: Float64Array): void;
  /** The fused gated / gated-anneal step (native/sae/sae_step.c GatedStep). */
  gatedStep(heap: ArrayBuffer, offsets: Float64Array, dims: Float64Array, hyper: Float64Array, stats: Float64Array, fired: Float32Array): void;
  /** The fused JumpReLU step (native/sae/sae_step.c JumpReluStep). */
  jumpReluStep(heap: ArrayBuffer, offsets: Float64Array, dims: Float64Array, hyper: Float64Array, stats: Float64Array, fired: Float32Array): void;
  setThreads(n: number): void;
  /**
   * Phase timers of the fused steps (bench/sae-step --profile): profile(true) resets and starts
   * them; profile(false) stops them and returns the ms summed since, per phase ("gemm enc",
   * "relu+stats", "adam", …) and per kind (gemm, elementwise, adam, copy). Absent in addons built
   * before it existed.
   */
  profile?(on: boolean): { phases: Record<string, number>; kinds: Record<string, number> };
}

export type SaeEngine = 'tfjs' | 'native';

let addon: SaeNativeAddon | null | undefined;
let reason = '';

export function loadSaeNative(): SaeNativeAddon | null {
  if (addon !== undefined) return addon;
  const disabled = nativeDisabledReason();
  if (disabled) {
    reason = disabled;
    addon = null;
    return addon;
  }
  const found = resolveAddonFile('saeboard_sae', process.env.SAEBOARD_SAE_NATIVE_PATH);
  if (!('file' in found)) {
    reason = `the SAE step addon is ${found.reason}`;
    addon = null;
    return addon;
  }
  const threads = configuredThreads(); // a bad SAEBOARD_THREADS is the caller's error, not a load failure
  try {
    addon = createRequire(import.meta.url)(found.file) as SaeNativeAddon;
    if (threads !== undefined) addon.setThreads(threads);
    const a = addon;
    // per-row top-k masks by a threaded quickselect (tfjs-wasm's TopK kernel is the top-k
    // trainer's bottleneck); same result as the reference (≥ the row's k-th largest)
    setTopKMaskNative((v, k) => {
      if (tf.getBackend() !== 'wasm' || (process.env.SAEBOARD_SAE_ENGINE ?? '').toLowerCase() === 'tfjs') return null;
      const [rows, cols] = v.shape;
      const mask = tf.zeros([rows, cols]) as tf.Tensor2D;
      const { heap, offsets } = heapOffsets([v, mask]);
      a.topkMask(heap, offsets[0], offsets[1], rows, cols, k);
      return mask;
    });
  } catch (err) {
    reason = `failed to load: ${(err as Error).message.split('\n')[0]}`;
    addon = null;
  }
  return addon;
}

/** Why the native step is not available ('' when it is). */
export function saeNativeUnavailableReason(): string {
  if (tf.getBackend() !== 'wasm') return `backend is ${tf.getBackend()}, not wasm`;
  return loadSaeNative() ? '' : reason;
}

/** The engine a new trainer uses: SAEBOARD_SAE_ENGINE or the argument, 'auto' = native when available. */
export function chooseSaeEngine(requested?: 'auto' | SaeEngine): SaeEngine {
  const env = (process.env.SAEBOARD_SAE_ENGINE ?? '').toLowerCase();
  const want = requested ?? (env === 'tfjs' || env === 'native' ? env : 'auto');
  if (want === 'tfjs') return 'tfjs';
  const why = saeNativeUnavailableReason();
  if (want === 'native' && why) throw new UserInputError(`the native SAE step is not available: ${why}`);
  return why ? 'tfjs' : 'native';
}

/** Float32 offsets of tensors in the wasm heap, in the order given. */
export function heapOffsets(tensors: tf.Tensor[]): { heap: ArrayBuffer; offsets: Float64Array } {
  const backend = tf.backend() as unknown as WasmBackendLike;
  const offsets = new Float64Array(tensors.map((t) => heapOffset(backend, t)));
  return { heap: wasmHeap(backend), offsets };
}

/** A fused step's call: (heap, offsets, dims, hyper, stats out, fired out), as native/sae/sae_step.c reads them. */
export type FusedStepCall = (heap: ArrayBuffer, offsets: Float64Array, dims: Float64Array, hyper: Float64Array, stats: Float64Array, fired: Float32Array) => void;

/**
 * What every fused step call shares: x and the named parameters with their Adam moments located in
 * the wasm heap (the order the C side reads: x, the parameters, then m and v of each), the shapes,
 * and Adam's constants for step t = adam.t + 1. `run(call, hyper, nStats)` calls the step, returns
 * its stats and fired flags, and moves Adam to step t only when the step's loss (stats[0]) came out
 * finite, as the tfjs path does.
 */
export function fusedStepInputs(params: Record<string, tf.Tensor>, dictSize: number, adam: Adam, x_BD: tf.Tensor2D, names: string[], lr: number) {
  const moments = names.flatMap((n) => {
    const { m, v } = adam.moments(n);
    return [m, v];
  });
  const [B, D] = x_BD.shape;
  const t = adam.t + 1;
  const { heap, offsets } = heapOffsets([x_BD, ...names.map((n) => params[n]), ...moments]);
  const dims = new Float64Array([B, D, dictSize]);
  const advance = (stats: Float64Array): void => {
    if (Number.isFinite(stats[0])) adam.t = t;
  };
  return {
    heap,
    offsets,
    B,
    D,
    F: dictSize,
    dims,
    /** beta1, beta2, eps, step size lr / (1 − β1^t), √(1 − β2^t) */
    adamHyper: [adam.beta1, adam.beta2, adam.eps, lr / (1 - adam.beta1 ** t), Math.sqrt(1 - adam.beta2 ** t)],
    run(call: FusedStepCall, hyper: Float64Array, nStats: number): { stats: Float64Array; fired: Float32Array } {
      const stats = new Float64Array(nStats);
      const fired = new Float32Array(dictSize);
      call(heap, offsets, dims, hyper, stats, fired);
      advance(stats);
      return { stats, fired };
    },
  };
}
