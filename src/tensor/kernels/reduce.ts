/**
 * Sum over leading axes on wasm+native: the column sum of a [rows, cols] view, in one pass.
 *
 * tfjs-wasm reduces only over innermost axes, so it transposes any other reduction's input first
 * (a full copy) and then sums: 10–35 ms for the [6144, 192–768] bias gradients of the GPT's
 * backward, ~20 % of a chess-small training step (docs/lm.md, "Where the training step's time
 * goes"). Every other Sum (innermost axes, all axes, integer dtypes) runs the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native.js';
import { fillOutputs, heapOffset, replaceWasmKernel, sizeOf, stockWasmKernel, wasmHeap, type WasmBackendLike } from './wasm_backend.js';

/** The leading-axes split of a reduction: rows summed away, cols kept; null when it is not one. */
export function leadingAxesSplit(shape: readonly number[], axis: number | number[] | undefined): { rows: number; cols: number; kept: number[] } | null {
  const rank = shape.length;
  if (axis === undefined || rank < 2) return null;
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  const k = axes.length;
  // exactly 0 … k−1, and something left (a full reduction is an innermost one: stock)
  if (k === 0 || k >= rank || axes.some((a, i) => a !== i)) return null;
  return { rows: sizeOf(shape.slice(0, k)), cols: sizeOf(shape.slice(k)), kept: shape.slice(k) };
}

function makeSum(addon: NativeAddon, stock: tf.KernelConfig): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as { inputs: { x: tf.TensorInfo }; backend: WasmBackendLike; attrs: { axis?: number | number[]; keepDims?: boolean } };
    const { x } = args.inputs;
    const split = x.dtype === 'float32' ? leadingAxesSplit(x.shape, args.attrs.axis) : null;
    if (!split || split.rows === 0 || split.cols === 0) return stock.kernelFunc(raw);
    const b = args.backend;
    const summed = x.shape.length - split.kept.length;
    const shape = args.attrs.keepDims ? x.shape.map((d, i) => (i < summed ? 1 : d)) : split.kept;
    const out = b.makeOutput(shape, 'float32');
    return fillOutputs(b, out, () => {
      const heap = wasmHeap(b);
      addon.colSum(heap, heapOffset(b, x), split.rows, split.cols, heap, heapOffset(b, out));
    });
  };
}

/**
 * Registers the native Sum for wasm (addon given) or puts the stock kernel back (null). Returns the
 * op names that now run natively.
 */
export function installNativeReductions(addon: NativeAddon | null): string[] {
  replaceWasmKernel(tf.Sum, addon ? makeSum(addon, stockWasmKernel(tf.Sum)) : undefined);
  return addon ? ['Sum'] : [];
}
