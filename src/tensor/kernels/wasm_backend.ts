/**
 * The small part of tfjs-backend-wasm's BackendWasm that our kernels use, and helpers to find a
 * tensor's data inside the wasm heap. (Typed here rather than imported: the package's own typings
 * pull in Emscripten's global types.)
 */
import * as tf from '@tensorflow/tfjs';

export interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number; shape: number[]; dtype: tf.DataType } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/** The wasm heap. Fetch it after every allocation: growing the memory replaces the buffer. */
export function wasmHeap(backend: WasmBackendLike): ArrayBuffer {
  return backend.wasm.HEAPU8.buffer as ArrayBuffer;
}

/** Offset of a tensor's first element in the heap, in float32 elements. */
export function heapOffset(backend: WasmBackendLike, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('tensor data is not on the wasm backend (was it disposed?)');
  if (data.memoryOffset % 4 !== 0) throw new Error(`tensor data at byte ${data.memoryOffset} is not float-aligned`);
  return data.memoryOffset / 4;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Runs another registered wasm kernel from inside a kernel (e.g. Transpose, Add, Relu). */
export function runWasmKernel(
  name: string,
  inputs: Record<string, tf.TensorInfo>,
  backend: WasmBackendLike,
  attrs: tf.NamedAttrMap = {},
  config?: tf.KernelConfig,
): tf.TensorInfo {
  const kernel = config ?? tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
  return kernel.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
}

/** Runs `fill` on freshly allocated outputs; if it throws, frees them before rethrowing. */
export function fillOutputs<T extends tf.TensorInfo | tf.TensorInfo[]>(backend: WasmBackendLike, outputs: T, fill: () => void): T {
  try {
    fill();
  } catch (err) {
    for (const t of Array.isArray(outputs) ? outputs : [outputs]) backend.disposeData(t.dataId);
    throw err;
  }
  return outputs;
}

const stockConfigs = new Map<string, tf.KernelConfig>();

/** The stock wasm kernel config of `name`, captured the first time it is asked for (before any replacement). */
export function stockWasmKernel(name: string): tf.KernelConfig {
  let config = stockConfigs.get(name);
  if (!config) {
    config = tf.getKernel(name, 'wasm');
    if (!config) throw new Error(`the wasm backend has no ${name} kernel (is @tensorflow/tfjs-backend-wasm loaded?)`);
    stockConfigs.set(name, config);
  }
  return config;
}

/**
 * Registers `kernelFunc` as wasm kernel `name` (keeping the stock config and its setup), or puts the
 * stock kernel back when none is given. Safe to call repeatedly (tests and benchmarks switch).
 */
export function replaceWasmKernel(name: string, kernelFunc?: tf.KernelFunc): void {
  const stock = stockWasmKernel(name); // captured before the first unregister
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel(kernelFunc ? { ...stock, kernelFunc } : stock);
}
