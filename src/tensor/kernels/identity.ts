/**
 * Identity on wasm by reference, as tfjs's CPU and WebGL backends do it: the output shares the
 * input's buffer (one more reference) instead of a copy.
 *
 * tfjs-core clones every tensor it saves for the backward pass (Engine.saveTensorsForBackwardMode),
 * and tfjs-wasm's Identity copies the whole buffer: 155 ms of a chess-small training step went to
 * those copies (docs/lm.md). Sharing is safe because nothing writes a tfjs buffer in place except
 * the fused native SAE step (src/sae/native.ts), which writes only its own parameters and Adam
 * moments; nothing in saeboard clones those (test/tensor/identity.test.ts keeps it so).
 */
import * as tf from '@tensorflow/tfjs';
import { replaceWasmKernel, stockWasmKernel } from './wasm_backend.js';

interface RefCountingBackend {
  incRef(dataId: tf.DataId): void;
}

const sharedIdentity: tf.KernelFunc = ({ inputs, backend }) => {
  const x = inputs.x as tf.TensorInfo;
  if (x.dtype === 'string') return stockWasmKernel(tf.Identity).kernelFunc({ inputs, backend, attrs: {} });
  (backend as unknown as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

/** Registers the sharing Identity for wasm (true) or puts the stock, copying one back (false). */
export function installSharedIdentity(share: boolean): void {
  replaceWasmKernel(tf.Identity, share ? sharedIdentity : undefined);
}
