/**
 * Loader for saeboard's N-API addon (native/, built by `npm install` or `npm run build:native`):
 * OpenBLAS sgemm plus a few fused elementwise kernels that read and write caller memory in place.
 * The addon is optional: when neither the local build nor the committed prebuilt one
 * (native/prebuilt, own SGEMM, for installs without a C compiler) can load, `loadNative()` returns
 * null with a reason and the backend falls back to pure-JS kernels.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { prebuiltStatus } from '../../../native/prebuilt.mjs';
import { UserInputError } from '../../errors.js';
import { PROJECT_ROOT } from '../../version.js';

/** Memory the addon can work in: the wasm heap (an ArrayBuffer) or a Float32Array. */
export type NativeMemory = ArrayBuffer | Float32Array;

/** Y = f(X) elementwise over n elements. */
export type NativeUnary = (X: NativeMemory, xOffset: number, Y: NativeMemory, yOffset: number, n: number) => void;
/** DX = DY · f'(X) elementwise over n elements. */
export type NativeUnaryGrad = (
  X: NativeMemory,
  xOffset: number,
  DY: NativeMemory,
  dyOffset: number,
  DX: NativeMemory,
  dxOffset: number,
  n: number,
) => void;

export interface NativeInfo {
  /** openblas_get_config(), e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64". */
  config: string;
  /** The GEMM kernel OpenBLAS picked (e.g. "Haswell", "Cooperlake"); OPENBLAS_CORETYPE overrides it. */
  corename: string;
  /** OpenBLAS threads used by GEMM. */
  blasThreads: number;
  /** Processors OpenBLAS sees. */
  procs: number;
  /** 0 = sequential build, 1 = pthreads, 2 = OpenMP. */
  parallel: number;
  /** Threads used by the addon's own elementwise kernels. */
  threads: number;
  /** The GEMM it was built with: OpenBLAS, or saeboard's own SGEMM (SAEBOARD_BLAS=none / no libopenblas). Absent in older builds (OpenBLAS). */
  blas?: 'openblas' | 'own';
  /**
   * The GEMM its calls take now, under the current SAEBOARD_GEMM (gemmSetting()): 'own' on
   * own-SGEMM builds, and on OpenBLAS builds where SAEBOARD_GEMM=own or auto picks the own SGEMM
   * (its kernel a wider ISA than OpenBLAS's core, e.g. AVX-512 over AVX2). Absent in older builds.
   */
  gemm?: 'openblas' | 'own';
  /** The own SGEMM's micro-kernel on this CPU: 'avx512', 'avx2' or 'generic'. Absent in older builds. */
  ownKernel?: string;
}

/**
 * The addon's functions. All offsets are in float32 elements from the start of the memory passed
 * with them; every size, offset and length is validated natively (a RangeError/TypeError is thrown
 * on bad input, never a crash).
 */
export interface NativeAddon {
  /**
   * C_i = op(A_i) @ op(B_i) for i in the batch, C_i (M×N row-major) stored consecutively from
   * `cOffset`. `aOffsets`/`bOffsets` are one offset (a single product) or equal-length
   * Float64Arrays (a batch; broadcasting = repeated offsets). A_i is M×K (K×M when transA).
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    A: NativeMemory,
    aOffsets: number | Float64Array,
    B: NativeMemory,
    bOffsets: number | Float64Array,
    C: NativeMemory,
    cOffset: number,
  ): void;
  /**
   * In place on a rows×cols block: x = act(x + bias[col]). Activation codes follow tfjs-backend-wasm
   * (0 linear, 1 relu, 2 relu6, 3 prelu, 4 leakyrelu, 5 sigmoid, 6 elu). bias/prelu lengths: 1 or cols.
   */
  biasAct(
    C: NativeMemory,
    cOffset: number,
    rows: number,
    cols: number,
    activation: number,
    bias: NativeMemory | null,
    biasOffset: number,
    biasLen: number,
    alpha: number,
    prelu: NativeMemory | null,
    preluOffset: number,
    preluLen: number,
  ): void;
  /** Y = gelu_tanh(X) over n elements (Y may be X). */
  gelu: NativeUnary;
  /** DX = DY * gelu_tanh'(X) over n elements. */
  geluGrad: NativeUnaryGrad;
  /** Y = gelu_erf(X) = X·Φ(X) over n elements (Y may be X). */
  geluErf: NativeUnary;
  /** DX = DY * gelu_erf'(X) over n elements. */
  geluErfGrad: NativeUnaryGrad;
  /** Y = softmax of each row of `cols` (Y may be X). */
  softmax(X: NativeMemory, xOffset: number, rows: number, cols: number, Y: NativeMemory, yOffset: number): void;
  /** DX = Y ⊙ (DY − Σ_j DY·Y) per row of `cols`, Y the softmax output. */
  softmaxGrad(
    Y: NativeMemory,
    yOffset: number,
    DY: NativeMemory,
    dyOffset: number,
    rows: number,
    cols: number,
    DX: NativeMemory,
    dxOffset: number,
  ): void;
  /** Per (batch, head): Y = softmax(scale·Q·Kᵀ + causal mask)·V, with Q, K, V, Y all [B, T, H, Dh]. */
  causalAttention(
    Q: NativeMemory,
    qOffset: number,
    K: NativeMemory,
    kOffset: number,
    V: NativeMemory,
    vOffset: number,
    B: number,
    H: number,
    T: number,
    Dh: number,
    scale: number,
    Y: NativeMemory,
    yOffset: number,
  ): void;
  /**
   * causalAttention for training: also writes the probabilities into P [B·H, T, T] (pair =
   * batch·H + head; zero above the diagonal) for causalAttentionGrad. Memory arguments are
   * (buffer, offset) pairs after the dimensions.
   */
  causalAttentionTrain(B: number, H: number, T: number, Dh: number, scale: number, ...tensors: (NativeMemory | number)[]): void;
  /**
   * The gradients of causalAttentionTrain: (B, H, T, Dh, scale, Q, qOff, K, kOff, V, vOff, P, pOff,
   * DY, dyOff, DQ, dqOff, DK, dkOff, DV, dvOff); dQ, dK, dV in the [B, T, H·Dh] layout of Q, K, V.
   */
  causalAttentionGrad(B: number, H: number, T: number, Dh: number, scale: number, ...tensors: (NativeMemory | number)[]): void;
  /** LayerNorm over rows of `cols`; writes Y and per-row (mean, rstd) pairs into stats (2·rows). */
  layerNorm(
    X: NativeMemory,
    xOffset: number,
    rows: number,
    cols: number,
    gamma: NativeMemory | null,
    gammaOffset: number,
    beta: NativeMemory | null,
    betaOffset: number,
    eps: number,
    Y: NativeMemory,
    yOffset: number,
    stats: NativeMemory,
    statsOffset: number,
  ): void;
  /** Backward of layerNorm: DX, and (when given) DGAMMA = Σ_rows dy·x̂, DBETA = Σ_rows dy. */
  layerNormGrad(
    X: NativeMemory,
    xOffset: number,
    DY: NativeMemory,
    dyOffset: number,
    rows: number,
    cols: number,
    gamma: NativeMemory | null,
    gammaOffset: number,
    stats: NativeMemory,
    statsOffset: number,
    DX: NativeMemory,
    dxOffset: number,
    DGAMMA: NativeMemory | null,
    dgammaOffset: number,
    DBETA: NativeMemory | null,
    dbetaOffset: number,
  ): void;
  /**
   * One Adam(W) step over n elements (torch order of operations, float32):
   * m' = b1·m + (1−b1)·g; v' = b2·v + (1−b2)·g²; p' = p·decay − stepSize·m'/(√v'/bc2Sqrt + eps).
   * `hyper` = Float64Array [beta1, beta2, eps, stepSize, bc2Sqrt, decay]. Outputs may be their own
   * inputs (in place).
   */
  adam(
    P: NativeMemory,
    pOffset: number,
    G: NativeMemory,
    gOffset: number,
    M: NativeMemory,
    mOffset: number,
    V: NativeMemory,
    vOffset: number,
    n: number,
    hyper: Float64Array,
    outP: NativeMemory,
    outPOffset: number,
    outM: NativeMemory,
    outMOffset: number,
    outV: NativeMemory,
    outVOffset: number,
  ): void;
  /** Y[c] = Σ_r X[r·cols + c] for c < cols (the column sums of a row-major [rows, cols] view), summed in double. */
  colSum(X: NativeMemory, xOffset: number, rows: number, cols: number, Y: NativeMemory, yOffset: number): void;
  info(): NativeInfo;
  /** Threads for OpenBLAS GEMM and the addon's elementwise kernels (default: all cores). */
  setThreads(n: number): void;
}

/** Where `npm install` / `npm run build:native` puts an addon. */
export function localAddonPath(name: 'saeboard_native' | 'saeboard_sae'): string {
  return path.join(PROJECT_ROOT, 'native', 'build', 'Release', `${name}.node`);
}

/** The local build of the compute addon. */
export const NATIVE_ADDON_PATH = localAddonPath('saeboard_native');

/** Printed when the fast path is unavailable. */
export const NATIVE_HINT =
  'for the fast native path: apt-get install libopenblas-dev build-essential python3, then npm run build:native';

/** `prebuilt`: the addon came from native/prebuilt (no local build), not from this machine's compiler. */
export type NativeLoad = { addon: NativeAddon; path: string; prebuilt: boolean } | { addon: null; reason: string };

/**
 * The file to load for one of the two addons: the explicit path when one is given
 * (SAEBOARD_NATIVE_PATH, SAEBOARD_SAE_NATIVE_PATH), else the local build (`npm install`,
 * `npm run build:native`), else the committed prebuilt build when it matches this checkout's
 * sources and runs here. SAEBOARD_PREBUILT=only skips the local build (what an install without a
 * compiler has), =off never takes the prebuilt one.
 */
export function resolveAddonFile(name: 'saeboard_native' | 'saeboard_sae', explicit: string | undefined): { file: string; prebuilt: boolean } | { reason: string } {
  gemmSetting();
  if (explicit) return existsSync(explicit) ? { file: explicit, prebuilt: false } : { reason: `${explicit} missing` };
  const mode = (process.env.SAEBOARD_PREBUILT ?? 'auto').toLowerCase();
  if (!['auto', 'only', 'off'].includes(mode)) {
    throw new UserInputError(`SAEBOARD_PREBUILT must be auto, only or off, got "${process.env.SAEBOARD_PREBUILT}"`);
  }
  const local = localAddonPath(name);
  if (mode !== 'only' && existsSync(local)) return { file: local, prebuilt: false };
  const notBuilt = mode === 'only' ? 'local build skipped (SAEBOARD_PREBUILT=only)' : `not built (${path.relative(PROJECT_ROOT, local)} missing)`;
  if (mode === 'off') return { reason: `${notBuilt}; prebuilt kernels off (SAEBOARD_PREBUILT=off)` };
  const prebuilt = prebuiltStatus();
  return prebuilt.ok ? { file: path.join(prebuilt.dir, `${name}.node`), prebuilt: true } : { reason: `${notBuilt}; ${prebuilt.reason}` };
}

const GEMM_SETTINGS = ['auto', 'own', 'openblas'] as const;
export type GemmSetting = (typeof GEMM_SETTINGS)[number];

/**
 * SAEBOARD_GEMM: which GEMM the addons' calls take (native/gemm/own_sgemm.c
 * saeboard_gemm_use_own reads it at every call) — auto (default; the own SGEMM where its kernel
 * is a wider ISA than OpenBLAS's core: AVX-512 over AVX2, e.g. OpenBLAS held there by a
 * machine-wide OPENBLAS_CORETYPE, or AVX2 over older), own or openblas. SAEBOARD_SAE_GEMM, when set, overrides it for the SAE
 * step. The addons read a bad value as auto, so it is refused here, before either loads.
 */
export function gemmSetting(): GemmSetting {
  for (const name of ['SAEBOARD_SAE_GEMM', 'SAEBOARD_GEMM']) {
    const raw = process.env[name];
    if (raw && !(GEMM_SETTINGS as readonly string[]).includes(raw)) {
      throw new UserInputError(`${name} must be one of ${GEMM_SETTINGS.join(', ')}, got "${raw}"`);
    }
  }
  return (process.env.SAEBOARD_GEMM || 'auto') as GemmSetting;
}

let loaded: NativeLoad | undefined;

/** SAEBOARD_THREADS: threads for native GEMM and elementwise kernels (default: all cores; 1 under vitest). */
export function threadsFromEnv(): number | undefined {
  const raw = process.env.SAEBOARD_THREADS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new UserInputError(`SAEBOARD_THREADS must be an integer between 1 and 1024, got "${raw}"`);
  }
  return n;
}

/**
 * Threads for the parallel compute paths (native kernels, the SAE step, the wasm matmul pool):
 * SAEBOARD_THREADS, else 1 under vitest — test runners run files in parallel worker processes (2
 * on the 2-core reference machines), and multi-threaded kernels in each would oversubscribe the
 * cores — else undefined: all cores.
 */
export function configuredThreads(): number | undefined {
  return threadsFromEnv() ?? (process.env.VITEST ? 1 : undefined);
}

/**
 * 'disabled by SAEBOARD_NATIVE=…' when SAEBOARD_NATIVE turns the native addons off (both: the
 * compute kernels and the SAE step, as an install without a C compiler has neither), else null.
 */
export function nativeDisabledReason(): string | null {
  const raw = process.env.SAEBOARD_NATIVE;
  return ['off', '0', 'false', 'no'].includes((raw ?? '').toLowerCase()) ? `disabled by SAEBOARD_NATIVE=${raw}` : null;
}

/**
 * Loads the addon once (resolveAddonFile says which file). SAEBOARD_NATIVE=off pretends it is
 * absent (to exercise the fallback); SAEBOARD_NATIVE_PATH points at another build. SAEBOARD_OPENBLAS_CORETYPE=auto drops a
 * machine-wide OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE override for this process (OpenBLAS reads them
 * when the library loads, so this must happen before the first load).
 */
export function loadNative(): NativeLoad {
  if (loaded) return loaded;
  const threads = configuredThreads();
  const disabled = nativeDisabledReason();
  if (disabled) {
    loaded = { addon: null, reason: disabled };
    return loaded;
  }
  const found = resolveAddonFile('saeboard_native', process.env.SAEBOARD_NATIVE_PATH);
  if (!('file' in found)) {
    loaded = { addon: null, reason: `native addon ${found.reason}` };
    return loaded;
  }
  if ((process.env.SAEBOARD_OPENBLAS_CORETYPE ?? '').toLowerCase() === 'auto') {
    delete process.env.OPENBLAS_CORETYPE;
    delete process.env.OPENBLAS_L2_SIZE;
  }
  try {
    const require = createRequire(import.meta.url);
    const addon = require(found.file) as NativeAddon;
    loaded = { addon, path: found.file, prebuilt: found.prebuilt };
  } catch (err) {
    loaded = { addon: null, reason: `native addon failed to load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
    return loaded;
  }
  if (threads !== undefined) loaded.addon.setThreads(threads);
  return loaded;
}
