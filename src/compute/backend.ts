/**
 * The tensor backend. Everything that computes with tensors imports `tf` from here (never from
 * '@tensorflow/tfjs' directly) and calls `initBackend()` once before the first op.
 *
 * NOTE: minimal first version (wasm only). The compute issue replaces the selection logic:
 * tfjs-node-gpu → tfjs-node → wasm + native OpenBLAS kernels → wasm + pure-JS kernel overrides.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };

export interface BackendInfo {
  /** saeboard's name for the configuration, e.g. "wasm+native", "wasm+js", "tfjs-node-gpu". */
  name: string;
  /** tfjs backend name as reported by tf.getBackend(). */
  tfBackend: string;
  /** Which kernel overrides are active, e.g. "openblas(BatchMatMul,_FusedMatMul)" or "none". */
  kernels: string;
  detail?: string;
}

let active: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

export function backendInfo(): BackendInfo | null {
  return active;
}

export function initBackend(): Promise<BackendInfo> {
  pending ??= (async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    active = { name: 'wasm', tfBackend: tf.getBackend(), kernels: 'none' };
    return active;
  })();
  return pending;
}
