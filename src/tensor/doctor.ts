/**
 * Which compute path this install runs on, what it costs against the best path on this machine,
 * and the one command that gets the best path: `saeboard doctor` prints it with a measured SGEMM,
 * `saeboard serve` (npm start) logs the one-line summary.
 *
 * The paths, best first (for CPU machines like ours; see ../../docs/compute-backend.md):
 *   native-openblas   the native addon over OpenBLAS (GEMM near the machine's limit)
 *   native-own-sgemm  the native addon with saeboard's own cache-blocked, vectorised SGEMM (no
 *                     libopenblas at build time, or no compiler: the committed prebuilt addon;
 *                     goal ≤ 2x the OpenBLAS time); on an OpenBLAS build the best path where
 *                     SAEBOARD_GEMM=auto picks it (its kernel a wider ISA than OpenBLAS's core)
 *   wasm-js           no native addon (no C compiler): tfjs wasm with SIMD (its own threads do not
 *                     work under Node), large matmuls on saeboard's wasm SGEMM (native/wasm) split
 *                     over a worker-thread pool
 * tfjs-node(-gpu) rank above all of them when installed; stock wasm and cpu are debugging only.
 */
import { existsSync, readdirSync } from 'node:fs';
import { backendInfo, initBackend, tf, type BackendInfo } from './backend.js';
import { gemmSetting, loadNative, type NativeAddon } from './kernels/native.js';

export type ComputePathId = 'tfjs-node-gpu' | 'tfjs-node' | 'native-openblas' | 'native-own-sgemm' | 'wasm-js' | 'wasm' | 'cpu';

export interface ComputePath {
  id: ComputePathId;
  /** One line a person reads, e.g. "native addon, OpenBLAS 0.3.21 (core Haswell), 2 threads". */
  label: string;
  /** True when no faster path can be had on this machine by installing or building something. */
  best: boolean;
  /** The one command that gets the best path (null when this is it). */
  fix: string | null;
  /** Why this path and not a better one (null when best). */
  why: string | null;
  /** An OpenBLAS build running on the own SGEMM, which SAEBOARD_GEMM=openblas switches back. */
  switchable?: boolean;
}

const OPENBLAS_FIX = 'apt-get install libopenblas-dev && npm run build:native';
const TOOLCHAIN_FIX = 'apt-get install build-essential python3 libopenblas-dev && npm run build:native';

/** Whether libopenblas (the shared library the default build links) is installed. */
export function openblasInstalled(): boolean {
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib']) {
    try {
      if (readdirSync(dir).some((f) => /^libopenblas(p)?\.so/.test(f))) return true;
    } catch {
      // no such directory
    }
  }
  return false;
}

function hasCompiler(): boolean {
  return ['/usr/bin/cc', '/usr/bin/gcc', '/usr/bin/clang', '/usr/local/bin/cc', '/usr/local/bin/gcc'].some((p) => existsSync(p));
}

/** The native addon's GEMM: 'openblas' or 'own' (addons built before the own SGEMM existed are OpenBLAS builds). */
export function addonBlas(addon: NativeAddon): 'openblas' | 'own' {
  return addon.info().blas === 'own' ? 'own' : 'openblas';
}

/** Describes the active path; `info` is the backend initBackend() chose. */
export function describeComputePath(info: BackendInfo): ComputePath {
  switch (info.name) {
    case 'tfjs-node-gpu':
      return { id: 'tfjs-node-gpu', label: 'tfjs-node-gpu (CUDA)', best: true, fix: null, why: null };
    case 'tfjs-node':
      return { id: 'tfjs-node', label: 'tfjs-node (libtensorflow CPU)', best: true, fix: null, why: null };
    case 'wasm+native': {
      const native = loadNative();
      const addon = native.addon as NativeAddon;
      const i = addon.info();
      if (native.addon && native.prebuilt) {
        // no local build: the install had no compiler (or its build failed), so the committed one runs
        const compiler = hasCompiler();
        return {
          id: 'native-own-sgemm',
          label: `native addon, prebuilt in native/prebuilt, own SGEMM (${i.corename}), ${i.threads} threads`,
          best: false,
          fix: !compiler ? TOOLCHAIN_FIX : openblasInstalled() ? 'npm run build:native' : OPENBLAS_FIX,
          why: compiler ? 'the addon is not built on this machine' : 'no C compiler: the prebuilt addon has saeboard\'s own SGEMM, not OpenBLAS',
        };
      }
      if (addonBlas(addon) === 'own') {
        const installed = openblasInstalled();
        return {
          id: 'native-own-sgemm',
          label: `native addon, own SGEMM (${i.corename}), ${i.threads} threads`,
          best: false,
          fix: installed ? 'npm run build:native' : OPENBLAS_FIX,
          why: installed ? 'the addon was built without OpenBLAS (SAEBOARD_BLAS=none or OpenBLAS missing then)' : 'libopenblas-dev is not installed',
        };
      }
      const blasName = i.config.split(' ').slice(0, 2).join(' ');
      if ((i.gemm ?? (process.env.SAEBOARD_GEMM === 'own' ? 'own' : 'openblas')) === 'own') {
        // an OpenBLAS build whose calls take the own SGEMM: asked for, or picked by SAEBOARD_GEMM=auto
        const why = gemmSetting() === 'own' ? 'SAEBOARD_GEMM=own' : `SAEBOARD_GEMM=auto: its ${i.ownKernel ?? 'AVX-512'} kernel over OpenBLAS's ${i.corename} core`;
        return {
          id: 'native-own-sgemm',
          label: `native addon, own SGEMM (${why}; the build also has ${blasName}), ${i.threads} threads`,
          best: true,
          fix: null,
          why: null,
          switchable: true,
        };
      }
      return {
        id: 'native-openblas',
        label: `native addon, ${blasName} (core ${i.corename}), ${i.blasThreads} threads`,
        best: true,
        fix: null,
        why: null,
      };
    }
    case 'wasm+js': {
      const compiler = hasCompiler();
      return {
        id: 'wasm-js',
        label: `tfjs wasm (SIMD), large matmuls on saeboard's wasm SGEMM on ${info.threads ?? 1} thread${(info.threads ?? 1) > 1 ? 's (worker pool)' : ''}, no native addon`,
        best: false,
        fix: compiler ? OPENBLAS_FIX : TOOLCHAIN_FIX,
        why: (() => {
          const n = loadNative();
          return n.addon ? 'the native addon is not in use' : n.reason;
        })(),
      };
    }
    case 'wasm':
    case 'cpu':
      return {
        id: info.name,
        label: `tfjs ${info.name} (stock kernels, forced by SAEBOARD_BACKEND: debugging only)`,
        best: false,
        fix: 'unset SAEBOARD_BACKEND',
        why: 'SAEBOARD_BACKEND forces a slow backend',
      };
    default:
      return { id: 'cpu', label: info.name, best: false, fix: null, why: null };
  }
}

/**
 * The path with `ownVsBlas` measured (own SGEMM time / OpenBLAS time in the same addon): on an
 * OpenBLAS build the faster of the two is the best path, with a 10 % margin against noise.
 */
export function withMeasuredGemm(path: ComputePath, ownVsBlas: number | null): ComputePath {
  if (ownVsBlas === null) return path;
  if (path.id === 'native-openblas' && ownVsBlas < 0.9) {
    return { ...path, best: false, fix: 'export SAEBOARD_GEMM=own', why: `the own SGEMM takes ${ownVsBlas}× OpenBLAS's time here` };
  }
  if (path.switchable && ownVsBlas > 1.1) {
    return { ...path, best: false, fix: 'export SAEBOARD_GEMM=openblas', why: `the own SGEMM takes ${ownVsBlas}× OpenBLAS's time here` };
  }
  return path;
}

/** The one-line summary `saeboard serve` logs. */
export function computeSummaryLine(path: ComputePath): string {
  return path.best ? `compute path: ${path.label} (the best path on this machine)` : `compute path: ${path.label}; for the best path: ${path.fix} (${path.why})`;
}

export interface SgemmFigure {
  what: string;
  M: number;
  N: number;
  K: number;
  msMin: number;
  msMedian: number;
  gflops: number;
}

/**
 * C[M,N] = A[M,K]·B[K,N] on the active backend (tf.matMul), `reps` times after one warm-up; the
 * SAE encoder's shape at B = M (d = 512, F = 4096). Not read back: the CPU backends compute
 * synchronously, and copying 32 MB out of the wasm heap would be most of the figure.
 */
export async function measureActiveSgemm(M = 1024, N = 4096, K = 512, reps = 5): Promise<SgemmFigure> {
  await initBackend();
  const a = tf.randomNormal([M, K]);
  const b = tf.randomNormal([K, N]);
  const once = () => {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dispose();
    return performance.now() - t0;
  };
  try {
    once();
    const ts = Array.from({ length: reps }, once).sort((x, y) => x - y);
    return figure(`tf.matMul on ${backendInfo()?.name}`, M, N, K, ts);
  } finally {
    tf.dispose([a, b]);
  }
}

/** The raw sgemm of a native addon (any build), same shape and timing as measureActiveSgemm. */
export function measureAddonSgemm(addon: NativeAddon, what: string, M = 1024, N = 4096, K = 512, reps = 5): SgemmFigure {
  const A = new Float32Array(M * K).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const B = new Float32Array(K * N).map((_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
  const C = new Float32Array(M * N);
  const once = () => {
    const t0 = performance.now();
    addon.sgemm(false, false, M, N, K, A, 0, B, 0, C, 0);
    return performance.now() - t0;
  };
  once();
  const ts = Array.from({ length: reps }, once).sort((x, y) => x - y);
  return figure(what, M, N, K, ts);
}

function figure(what: string, M: number, N: number, K: number, sorted: number[]): SgemmFigure {
  const median = sorted[Math.floor(sorted.length / 2)];
  return {
    what,
    M,
    N,
    K,
    msMin: Math.round(sorted[0] * 100) / 100,
    msMedian: Math.round(median * 100) / 100,
    gflops: Math.round(((2 * M * N * K) / (sorted[0] / 1000) / 1e9) * 10) / 10,
  };
}
