/**
 * The tensor backend. Everything that computes with tensors imports `tf` from here (never from
 * '@tensorflow/tfjs' directly) and calls `initBackend()` once before the first op.
 *
 * Selection, first that works (../docs/compute-backend.md):
 *   1. tfjs-node-gpu  optional peer dependency; only when installed and a GPU is visible
 *   2. tfjs-node      optional peer dependency (libtensorflow CPU)
 *   3. wasm+native    tfjs wasm backend with saeboard's native addon as BatchMatMul/_FusedMatMul
 *                     (OpenBLAS, or its own SGEMM when built without libopenblas; without a
 *                     compiler, the committed prebuilt addon with the own SGEMM)
 *   4. wasm+js        tfjs wasm backend with pure-JS overrides (explicit transpose, then stock A·B)
 * Stock wasm (transposed matmuls at 1–4 GFLOPS) and the cpu backend (~0.8 GFLOPS) are never picked
 * automatically; SAEBOARD_BACKEND can force any of them ("wasm", "cpu") for debugging.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { UserInputError } from '../errors.js';
import { log } from '../log.js';
import { installBroadcastMatMulGradient } from './kernels/gradients.js';
import { gemmPool, startGemmPool } from './kernels/gemm_pool.js';
import { installMatMulKernels } from './kernels/matmul.js';
import { installNativeReductions } from './kernels/reduce.js';
import { installSharedIdentity } from './kernels/identity.js';
import { configuredThreads, gemmSetting, loadNative, NATIVE_HINT, type NativeAddon } from './kernels/native.js';
import { installNativeOps } from './kernels/ops.js';

export { tf };

export interface BackendInfo {
  /** saeboard's name for the configuration: one of BACKEND_NAMES, e.g. "wasm+native". */
  name: string;
  /** tfjs backend name as reported by tf.getBackend(). */
  tfBackend: string;
  /** Which kernel overrides are active, e.g. "openblas(BatchMatMul,_FusedMatMul,Gelu,LayerNorm)" or "none". */
  kernels: string;
  /** Human-readable notes: why faster options were skipped, BLAS config. */
  detail?: string;
  /** OpenBLAS GEMM kernel in use (e.g. "Haswell", "Cooperlake") when the native addon is active. */
  blasCore?: string;
  /** Threads used by native kernels (wasm+native), when known. */
  threads?: number;
}

/** Backends in automatic selection order, followed by the ones only reachable by forcing. */
export const BACKEND_NAMES = ['tfjs-node-gpu', 'tfjs-node', 'wasm+native', 'wasm+js', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const AUTO_ORDER: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm+native', 'wasm+js'];

const ALIASES: Record<string, BackendName> = {
  'tfjs-node-gpu': 'tfjs-node-gpu',
  gpu: 'tfjs-node-gpu',
  'tfjs-node': 'tfjs-node',
  node: 'tfjs-node',
  'wasm+native': 'wasm+native',
  'wasm-native': 'wasm+native',
  native: 'wasm+native',
  'wasm+js': 'wasm+js',
  'wasm-js': 'wasm+js',
  js: 'wasm+js',
  wasm: 'wasm',
  'wasm-stock': 'wasm',
  cpu: 'cpu',
};

/** Parses SAEBOARD_BACKEND: undefined for automatic selection, else a backend name. */
export function parseBackendName(raw: string | undefined): BackendName | undefined {
  const value = (raw ?? '').trim().toLowerCase();
  if (value === '' || value === 'auto') return undefined;
  const name = ALIASES[value];
  if (!name) {
    throw new UserInputError(
      `SAEBOARD_BACKEND="${raw}" is not a backend; use one of: auto, ${BACKEND_NAMES.join(', ')}`,
    );
  }
  return name;
}

/** Why a backend cannot be used here, or null when it can. */
export type Probe = (name: BackendName) => Promise<string | null>;

/**
 * The selection rule, separate from the probing so it can be tested: the forced backend when it
 * is available (else a clear error), otherwise the first available one in AUTO_ORDER. Returns the
 * reasons the faster options were skipped.
 */
export async function chooseBackend(
  forced: BackendName | undefined,
  probe: Probe,
): Promise<{ name: BackendName; skipped: { name: BackendName; reason: string }[] }> {
  if (forced) {
    const reason = await probe(forced);
    if (reason !== null) throw new UserInputError(`SAEBOARD_BACKEND=${forced} is not available: ${reason}`);
    return { name: forced, skipped: [] };
  }
  const skipped: { name: BackendName; reason: string }[] = [];
  for (const name of AUTO_ORDER) {
    const reason = await probe(name);
    if (reason === null) return { name, skipped };
    skipped.push({ name, reason });
  }
  throw new Error(`no compute backend is available: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

// ---------------------------------------------------------------------------------------------
// Probing and activation of the real backends
// ---------------------------------------------------------------------------------------------

/** tfjs-node(-gpu) registers the "tensorflow" backend on import. Optional: absent here. */
async function importOptional(pkg: string): Promise<string | null> {
  try {
    const specifier: string = pkg; // a variable keeps TypeScript from resolving the optional package
    await import(specifier);
    return null;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return `${pkg} is not installed`;
    return `${pkg} failed to load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
}

/** A GPU tfjs-node-gpu could use: an NVIDIA device node, not hidden by CUDA_VISIBLE_DEVICES. */
export function gpuVisible(): boolean {
  const visible = process.env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && (visible.trim() === '' || visible.trim() === '-1')) return false;
  return existsSync('/dev/nvidia0') || existsSync('/proc/driver/nvidia/gpus');
}

async function probeReal(name: BackendName): Promise<string | null> {
  switch (name) {
    case 'tfjs-node-gpu': {
      if (!gpuVisible()) return 'no GPU visible';
      return importOptional('@tensorflow/tfjs-node-gpu');
    }
    case 'tfjs-node':
      return importOptional('@tensorflow/tfjs-node');
    case 'wasm+native': {
      const native = loadNative();
      return native.addon ? null : `${native.reason}; ${NATIVE_HINT}`;
    }
    case 'wasm+js':
    case 'wasm':
    case 'cpu':
      return null;
  }
}

async function setTfBackend(tfName: string): Promise<void> {
  const ok = await tf.setBackend(tfName);
  if (!ok) throw new Error(`tfjs could not initialise its "${tfName}" backend`);
  await tf.ready();
}

async function activate(name: BackendName): Promise<BackendInfo> {
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      await setTfBackend('tensorflow');
      return { name, tfBackend: tf.getBackend(), kernels: 'none' };
    case 'wasm+native': {
      await setTfBackend('wasm');
      const native = loadNative();
      const addon = native.addon as NativeAddon;
      installMatMulKernels('native', addon);
      const opKernels = [...installNativeOps(addon), ...installNativeReductions(addon)];
      installSharedIdentity(true);
      const info = addon.info();
      return {
        name,
        tfBackend: tf.getBackend(),
        // "own-sgemm(...)": the GEMMs run on native/gemm/own_sgemm.c (a build without OpenBLAS, or
        // SAEBOARD_GEMM picking it over OpenBLAS's core)
        kernels: `${(info.gemm ?? info.blas) === 'own' ? 'own-sgemm' : 'openblas'}(${['BatchMatMul', '_FusedMatMul', ...opKernels].join(',')})`,
        detail:
          `${info.config}; ${info.blasThreads} BLAS threads` +
          (info.blas !== 'own' && info.gemm === 'own' ? `; GEMMs on saeboard's own SGEMM (${info.ownKernel}) by SAEBOARD_GEMM=${gemmSetting()}` : '') +
          (native.addon && native.prebuilt ? '; prebuilt addon (native/prebuilt: no local build)' : ''),
        blasCore: info.corename,
        threads: info.threads,
      };
    }
    case 'wasm+js': {
      await setTfBackend('wasm');
      installMatMulKernels('js');
      installNativeOps(null);
      installNativeReductions(null);
      installSharedIdentity(true);
      // large matmuls on saeboard's wasm SGEMM, over a worker pool (tfjs-wasm's own threads do
      // not start under Node)
      const threads = configuredThreads() ?? os.availableParallelism();
      let detail: string;
      try {
        const pool = await startGemmPool(threads);
        detail =
          pool.threads > 1
            ? `large matmuls on saeboard's wasm SGEMM, split over ${pool.threads} threads (worker pool)`
            : `large matmuls on saeboard's wasm SGEMM, 1 thread (SAEBOARD_THREADS=1)`;
      } catch (err) {
        detail = `matmuls on tfjs' kernels, 1 thread: the wasm SGEMM pool did not start (${(err as Error).message})`;
        log.warn({ err: (err as Error).message }, 'compute backend: wasm SGEMM pool did not start; matmuls run on one thread');
      }
      const kernels = gemmPool() ? 'wasm-sgemm(BatchMatMul,_FusedMatMul)' : 'js-transpose(BatchMatMul,_FusedMatMul)';
      return { name, tfBackend: tf.getBackend(), kernels, detail, threads: gemmPool()?.threads ?? 1 };
    }
    case 'wasm':
      await setTfBackend('wasm');
      installMatMulKernels('stock');
      installNativeOps(null);
      installNativeReductions(null);
      installSharedIdentity(false);
      return { name, tfBackend: tf.getBackend(), kernels: 'none' };
    case 'cpu':
      await setTfBackend('cpu');
      return { name, tfBackend: tf.getBackend(), kernels: 'none' };
  }
}

let active: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

/** The active backend, or null before initBackend() has finished. */
export function backendInfo(): BackendInfo | null {
  return active;
}

/**
 * Picks and initialises the backend once per process (later calls return the same promise).
 * SAEBOARD_BACKEND=auto|tfjs-node-gpu|tfjs-node|wasm+native|wasm+js|wasm|cpu forces one; a forced
 * backend that is unavailable is an error, not a silent fallback.
 */
export function initBackend(): Promise<BackendInfo> {
  pending ??= (async () => {
    const forced = parseBackendName(process.env.SAEBOARD_BACKEND);
    const { name, skipped } = await chooseBackend(forced, probeReal);
    const info = await activate(name);
    installBroadcastMatMulGradient(); // gradients are global: applies to every backend
    const notes = skipped.filter((s) => s.name !== 'tfjs-node-gpu' && s.name !== 'tfjs-node');
    if (notes.length > 0) {
      info.detail = [info.detail, ...notes.map((s) => `${s.name} skipped: ${s.reason}`)].filter(Boolean).join('; ');
    }
    if (forced && (forced === 'wasm' || forced === 'cpu')) {
      log.warn({ backend: forced }, `compute backend "${forced}" forced: its matmuls are very slow; use it for debugging only`);
    }
    log.info({ backend: info }, `compute backend: ${info.name} (${info.kernels}${info.blasCore ? `, BLAS core ${info.blasCore}` : ''})`);
    active = info;
    return info;
  })();
  pending.catch(() => {
    pending = null; // let a corrected environment retry
  });
  return pending;
}
