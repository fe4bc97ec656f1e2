/**
 * BatchMatMul and _FusedMatMul kernels for the tfjs wasm backend.
 *
 * Stock tfjs-backend-wasm is fast only for A·B (≈46 GFLOPS single-threaded): its transposed forms
 * run at 1–4 GFLOPS, and backprop uses exactly those (perf.md). Two replacement kernel sets:
 * - "native": the OpenBLAS addon computes every transpose/broadcast combination in place on the
 *   wasm heap (zero copies), with bias + activation fused natively.
 * - "js": no native code: transpose explicitly with the wasm Transpose kernel, then call the stock
 *   A·B kernel (≈14× faster than stock for the transposed forms).
 * Gradients need no work: tfjs core's matMul/fused matMul gradients call BatchMatMul.
 *
 * Kernels are swapped in the global registry (unregisterKernel + registerKernel), so this must run
 * after the wasm backend has initialised (the stock kernels' setup has run by then).
 */
import * as tf from '@tensorflow/tfjs';
import { gemmPool, MIN_POOL_WORK } from './gemm_pool.js';
import { broadcastShapes, planBatchMatMul, type MatMulPlan } from './matmul_plan.js';
import type { NativeAddon } from './native.js';
import { fillOutputs, heapOffset, replaceWasmKernel, runWasmKernel, sizeOf, stockWasmKernel, wasmHeap, type WasmBackendLike } from './wasm_backend.js';

export type MatMulKernelSet = 'native' | 'js' | 'stock';

const KERNEL_NAMES = [tf.BatchMatMul, tf._FusedMatMul] as const;

/** Activation codes of the addon's biasAct (= tfjs-backend-wasm's FusableActivation enum). */
const ACTIVATION_CODES: Record<string, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  prelu: 3,
  leakyrelu: 4,
  sigmoid: 5,
  elu: 6,
};

interface MatMulArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: WasmBackendLike;
  attrs: tf.NamedAttrMap;
}

let installed: MatMulKernelSet = 'stock';

function runStock(name: string, args: MatMulArgs, attrs: tf.NamedAttrMap = args.attrs): tf.TensorInfo {
  return stockWasmKernel(name).kernelFunc({ inputs: args.inputs, backend: args.backend, attrs }) as tf.TensorInfo;
}

// ---------------------------------------------------------------------------------------------
// Native (OpenBLAS) kernels
// ---------------------------------------------------------------------------------------------

function withBase(offsets: Float64Array, base: number): number | Float64Array {
  if (offsets.length === 1) return offsets[0] + base;
  const out = new Float64Array(offsets.length);
  for (let i = 0; i < offsets.length; i++) out[i] = offsets[i] + base;
  return out;
}

/** Allocates the output and runs the planned GEMM(s) on the wasm heap. */
function nativeGemm(addon: NativeAddon, backend: WasmBackendLike, plan: MatMulPlan, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const out = backend.makeOutput(plan.outShape, 'float32');
  if (sizeOf(plan.outShape) === 0) return out;
  return fillOutputs(backend, out, () => {
    const heap = wasmHeap(backend); // after makeOutput, which may have grown (replaced) the heap
    addon.sgemm(
      plan.transA,
      plan.transB,
      plan.M,
      plan.N,
      plan.K,
      heap,
      withBase(plan.aOffsets, heapOffset(backend, a)),
      heap,
      withBase(plan.bOffsets, heapOffset(backend, b)),
      heap,
      heapOffset(backend, out),
    );
  });
}

function isFloat32(...ts: (tf.TensorInfo | undefined)[]): boolean {
  return ts.every((t) => t == null || t.dtype === 'float32');
}

function makeNativeBatchMatMul(addon: NativeAddon): tf.KernelFunc {
  return (rawArgs) => {
    const args = rawArgs as unknown as MatMulArgs;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (!isFloat32(a, b)) return runStock(tf.BatchMatMul, args); // stock throws its own dtype error
    const plan = planBatchMatMul(a.shape, b.shape, Boolean(args.attrs.transposeA), Boolean(args.attrs.transposeB));
    return nativeGemm(addon, args.backend, plan, a, b);
  };
}

/** A bias/prelu tensor the addon can apply per column: one value, or N values along the last axis. */
function perColumnLength(t: tf.TensorInfo, N: number): number | null {
  const size = sizeOf(t.shape);
  if (size === 1) return 1;
  if (size === N && t.shape[t.shape.length - 1] === N) return N;
  return null;
}

/** Bias + activation with the wasm backend's own kernels (for shapes the addon does not take). */
function applyBiasActivationWithKernels(
  backend: WasmBackendLike,
  x: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  activation: string,
  prelu: tf.TensorInfo | undefined,
  leakyreluAlpha: number,
): tf.TensorInfo {
  let cur = x;
  const step = (next: tf.TensorInfo) => {
    backend.disposeData(cur.dataId);
    cur = next;
  };
  if (bias) step(runWasmKernel(tf.Add, { a: cur, b: bias }, backend));
  switch (activation) {
    case 'linear':
      break;
    case 'relu':
      step(runWasmKernel(tf.Relu, { x: cur }, backend));
      break;
    case 'relu6':
      step(runWasmKernel(tf.Relu6, { x: cur }, backend));
      break;
    case 'elu':
      step(runWasmKernel(tf.Elu, { x: cur }, backend));
      break;
    case 'sigmoid':
      step(runWasmKernel(tf.Sigmoid, { x: cur }, backend));
      break;
    case 'leakyrelu':
      step(runWasmKernel(tf.LeakyRelu, { x: cur }, backend, { alpha: leakyreluAlpha }));
      break;
    case 'prelu':
      if (!prelu) throw new Error('fused matMul: prelu activation needs preluActivationWeights');
      step(runWasmKernel(tf.Prelu, { x: cur, alpha: prelu }, backend));
      break;
    default:
      backend.disposeData(cur.dataId);
      throw new Error(`fused matMul: activation "${activation}" is not supported on the wasm backend`);
  }
  return cur;
}

function makeNativeFusedMatMul(addon: NativeAddon): tf.KernelFunc {
  return (rawArgs) => {
    const args = rawArgs as unknown as MatMulArgs;
    const { a, b, bias, preluActivationWeights: prelu } = args.inputs;
    if (!a || !b || !isFloat32(a, b, bias, prelu)) return runStock(tf._FusedMatMul, args);
    const activation = String(args.attrs.activation ?? 'linear');
    const leakyreluAlpha = Number(args.attrs.leakyreluAlpha ?? 0.2);
    const plan = planBatchMatMul(a.shape, b.shape, Boolean(args.attrs.transposeA), Boolean(args.attrs.transposeB));
    const N = plan.N;
    const code = ACTIVATION_CODES[activation];
    const biasLen = bias ? perColumnLength(bias, N) : 0;
    const preluLen = prelu ? perColumnLength(prelu, N) : 0;
    const nativeEpilogue = code !== undefined && biasLen !== null && (activation !== 'prelu' || (prelu && preluLen !== null));

    const out = nativeGemm(addon, args.backend, plan, a, b);
    if (!nativeEpilogue) {
      return applyBiasActivationWithKernels(args.backend, out, bias, activation, prelu, leakyreluAlpha);
    }
    if ((bias || code !== 0) && sizeOf(out.shape) > 0) {
      const backend = args.backend;
      const heap = wasmHeap(backend);
      const usePrelu = activation === 'prelu' && prelu;
      return fillOutputs(backend, out, () => addon.biasAct(
        heap,
        heapOffset(backend, out),
        sizeOf(out.shape) / N,
        N,
        code,
        bias ? heap : null,
        bias ? heapOffset(backend, bias) : 0,
        biasLen ?? 0,
        leakyreluAlpha,
        usePrelu ? heap : null,
        usePrelu ? heapOffset(backend, prelu) : 0,
        usePrelu ? (preluLen ?? 0) : 0,
      ));
    }
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// Pure-JS fallback: explicit transposes + the stock A·B kernel
// ---------------------------------------------------------------------------------------------

function transposeLastTwo(t: tf.TensorInfo, backend: WasmBackendLike): tf.TensorInfo {
  const rank = t.shape.length;
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return runWasmKernel(tf.Transpose, { x: t }, backend, { perm });
}

/**
 * Stock wasm BatchMatMul indexes each operand's batch modulo its size. That is right when the
 * operand's batch is all ones followed by a suffix of the output batch ([3] in [2,3]); otherwise
 * ([2,1] against [1,3]) tile the operand to the full output batch first.
 */
function materializeBatch(t: tf.TensorInfo, outBatch: number[], backend: WasmBackendLike, temps: tf.TensorInfo[]): tf.TensorInfo {
  const batch = t.shape.slice(0, -2);
  const rank = outBatch.length;
  const padded = [...new Array<number>(rank - batch.length).fill(1), ...batch];
  let first = 0;
  while (first < rank && padded[first] === 1) first++;
  let moduloOk = true;
  for (let i = first; i < rank; i++) if (padded[i] !== outBatch[i]) moduloOk = false;
  if (moduloOk) return t;
  const reshaped = runWasmKernel(tf.Reshape, { x: t }, backend, { shape: [...padded, ...t.shape.slice(-2)] });
  temps.push(reshaped);
  const tiled = runWasmKernel(tf.Tile, { x: reshaped }, backend, { reps: [...padded.map((d, i) => outBatch[i] / d), 1, 1] });
  temps.push(tiled);
  return tiled;
}

/**
 * Runs stock kernel `name` on operands made plain (A·B, batch the stock kernel handles):
 * explicit wasm transposes instead of the stock transposed paths (1–4 GFLOPS).
 */
function runStockOnPlainOperands(name: string, args: MatMulArgs, extraInputs: tf.NamedTensorInfoMap = {}): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const transposeA = Boolean(args.attrs.transposeA);
  const transposeB = Boolean(args.attrs.transposeB);
  const outBatch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const temps: tf.TensorInfo[] = [];
  try {
    let aN = materializeBatch(a, outBatch, args.backend, temps);
    let bN = materializeBatch(b, outBatch, args.backend, temps);
    if (transposeA) temps.push((aN = transposeLastTwo(aN, args.backend)));
    if (transposeB) temps.push((bN = transposeLastTwo(bN, args.backend)));
    return stockWasmKernel(name).kernelFunc({
      inputs: { ...extraInputs, a: aN, b: bN },
      backend: args.backend,
      attrs: { ...args.attrs, transposeA: false, transposeB: false },
    }) as tf.TensorInfo;
  } finally {
    for (const t of temps) args.backend.disposeData(t.dataId);
  }
}

/** A view of a tensor's data in the wasm heap (valid until the next allocation). */
function heapView(backend: WasmBackendLike, t: tf.TensorInfo): Float32Array {
  return new Float32Array(wasmHeap(backend), heapOffset(backend, t) * 4, sizeOf(t.shape));
}

/**
 * One large product on the gemm pool (gemm_pool.ts): saeboard's wasm SGEMM, split over the pool's
 * threads, every transpose form taken as stored. Null when the pool does not take it (no pool,
 * small or batched product, pool failed).
 */
function pooledMatMul(args: MatMulArgs, plan: MatMulPlan): tf.TensorInfo | null {
  const pool = gemmPool();
  if (!pool || plan.aOffsets.length !== 1 || plan.M * plan.N * plan.K < MIN_POOL_WORK) return null;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const backend = args.backend;
  const out = backend.makeOutput(plan.outShape, 'float32');
  // views after makeOutput (an allocation may replace the heap); the pool allocates nothing there
  const done = pool.matMul({ M: plan.M, N: plan.N, K: plan.K, transA: plan.transA, transB: plan.transB, a: heapView(backend, a), b: heapView(backend, b), c: heapView(backend, out) });
  if (done) return out;
  backend.disposeData(out.dataId);
  return null;
}

function jsBatchMatMul(rawArgs: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const args = rawArgs as unknown as MatMulArgs;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  if (!isFloat32(a, b)) return runStock(tf.BatchMatMul, args);
  const plan = planBatchMatMul(a.shape, b.shape, Boolean(args.attrs.transposeA), Boolean(args.attrs.transposeB)); // validates shapes
  return pooledMatMul(args, plan) ?? runStockOnPlainOperands(tf.BatchMatMul, args);
}

function jsFusedMatMul(rawArgs: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const args = rawArgs as unknown as MatMulArgs;
  const { a, b, bias, preluActivationWeights: prelu } = args.inputs as Record<string, tf.TensorInfo>;
  if (!isFloat32(a, b, bias, prelu)) return runStock(tf._FusedMatMul, args);
  const plan = planBatchMatMul(a.shape, b.shape, Boolean(args.attrs.transposeA), Boolean(args.attrs.transposeB));
  const pooled = pooledMatMul(args, plan);
  if (pooled) {
    const activation = String(args.attrs.activation ?? 'linear');
    return applyBiasActivationWithKernels(args.backend, pooled, bias, activation, prelu, Number(args.attrs.leakyreluAlpha ?? 0.2));
  }
  const batchCount = sizeOf(plan.outShape.slice(0, -2));
  // The stock fused kernel takes only rank-1 bias, and adds it wrongly when the batch is > 1
  // (tfjs 4.22); then do the product and the epilogue as separate wasm kernels.
  if (!bias || (bias.shape.length === 1 && batchCount <= 1)) {
    const extra: tf.NamedTensorInfoMap = {};
    if (bias) extra.bias = bias;
    if (prelu) extra.preluActivationWeights = prelu;
    return runStockOnPlainOperands(tf._FusedMatMul, args, extra);
  }
  const productInfo = runStockOnPlainOperands(tf.BatchMatMul, args);
  const activation = String(args.attrs.activation ?? 'linear');
  return applyBiasActivationWithKernels(args.backend, productInfo, bias, activation, prelu, Number(args.attrs.leakyreluAlpha ?? 0.2));
}

/**
 * (A·Bᵀ) ⊙ mask, A [M, K], B [N, K], mask [M, N] (2-D, float32): the SAE backward's dPost of a
 * top-k trainer. On the js set a sparse mask takes the pool's masked product (a dot product per
 * kept entry, gemm_pool.ts); otherwise, and on every other set, the product then the mask.
 */
export const MASKED_MATMUL_T_KERNEL = 'SaeboardMaskedMatMulT';

function jsMaskedMatMulT(rawArgs: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { inputs, backend } = rawArgs as unknown as MatMulArgs;
  const { a, b, mask } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo; mask: tf.TensorInfo };
  const [M, K] = a.shape;
  const N = b.shape[0];
  const pool = gemmPool();
  if (pool && isFloat32(a, b, mask)) {
    const out = backend.makeOutput([M, N], 'float32');
    const done = pool.maskedMatMul({ M, N, K, a: heapView(backend, a), b: heapView(backend, b), mask: heapView(backend, mask), c: heapView(backend, out) });
    if (done) return out;
    backend.disposeData(out.dataId);
  }
  const product = runWasmKernel(tf.BatchMatMul, { a, b }, backend, { transposeA: false, transposeB: true });
  try {
    return runWasmKernel(tf.Multiply, { a: product, b: mask }, backend);
  } finally {
    backend.disposeData(product.dataId);
  }
}

/**
 * The mask of each row's k largest entries of a 2-D float32 v (1 where v ≥ the row's k-th largest
 * value, ties keeping a few more): a top-k SAE's activations. Registered with the js set, where
 * the pool runs a quickselect a row (tfjs' TopK took 52–57 ms of the no-addon top-k step at
 * B 2048, F 4096); src/sae/ops.ts topKMask composes it from tf.topk elsewhere.
 */
export const TOPK_MASK_KERNEL = 'SaeboardTopKMask';

function jsTopKMask(rawArgs: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { inputs, backend, attrs } = rawArgs as unknown as MatMulArgs;
  const { v } = inputs as { v: tf.TensorInfo };
  const [rows, cols] = v.shape;
  const k = Number(attrs.k);
  const out = backend.makeOutput([rows, cols], 'float32');
  const pool = gemmPool();
  if (pool?.topKMask({ rows, cols, k, v: heapView(backend, v), out: heapView(backend, out) })) return out;
  // no pool (or a row wider than its scratch): sort each row on this thread
  const [vals, mask] = [heapView(backend, v), heapView(backend, out)];
  for (let r = 0; r < rows; r++) {
    const row = vals.subarray(r * cols, (r + 1) * cols);
    const kth = k <= 0 ? Infinity : k >= cols ? -Infinity : Float32Array.from(row).sort()[cols - k];
    for (let j = 0; j < cols; j++) mask[r * cols + j] = row[j] >= kth ? 1 : 0;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Installation
// ---------------------------------------------------------------------------------------------

function kernelFuncFor(set: MatMulKernelSet, name: string, addon: NativeAddon | null): tf.KernelFunc {
  if (set === 'stock') return stockWasmKernel(name).kernelFunc;
  if (set === 'js') return name === tf.BatchMatMul ? jsBatchMatMul : jsFusedMatMul;
  if (!addon) throw new Error('the native kernel set needs the native addon');
  return name === tf.BatchMatMul ? makeNativeBatchMatMul(addon) : makeNativeFusedMatMul(addon);
}

/**
 * Registers a matmul kernel set for the wasm backend, replacing whatever is registered. Safe to
 * call repeatedly (benchmarks and tests switch sets in one process).
 */
export function installMatMulKernels(set: MatMulKernelSet, addon: NativeAddon | null = null): void {
  for (const name of KERNEL_NAMES) replaceWasmKernel(name, kernelFuncFor(set, name, addon));
  // the pool's masked product and top-k mask only where they have a path of their own (the ops
  // compose them otherwise)
  for (const [name, kernelFunc] of [[MASKED_MATMUL_T_KERNEL, jsMaskedMatMulT], [TOPK_MASK_KERNEL, jsTopKMask]] as const) {
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
    if (set === 'js') tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
  }
  installed = set;
}

/** The matmul kernel set currently registered for wasm. */
export function installedMatMulKernels(): MatMulKernelSet {
  return installed;
}
