/** Importing this module registers every dictionary architecture. */
import type { DictionaryName } from '../config.js';
import type { Rng } from '../rng.js';
import { initBatchTopK } from './batchTopK.js';
import { initGated } from './gated.js';
import { initJumpRelu } from './jumpRelu.js';
import { initRelu } from './relu.js';
import { initTopK } from './topK.js';

export { ReluDictionary, initRelu } from './relu.js';
export { GatedDictionary, initGated } from './gated.js';
export { TopKDictionary, initTopK } from './topK.js';
export { BatchTopKDictionary, initBatchTopK, batchTopKMask } from './batchTopK.js';
export { JumpReluDictionary, initJumpRelu } from './jumpRelu.js';

/** Fresh random parameters for an architecture, as its dictionary_learning class initialises them. */
export function initDictionaryTensors(name: DictionaryName, dIn: number, dictSize: number, rng: Rng): Record<string, Float32Array> {
  switch (name) {
    case 'relu':
      return initRelu(dIn, dictSize, rng);
    case 'gated':
      return initGated(dIn, dictSize, rng);
    case 'top_k':
      return initTopK(dIn, dictSize, rng);
    case 'batch_top_k':
      return initBatchTopK(dIn, dictSize, rng);
    case 'jump_relu':
      return initJumpRelu(dIn, dictSize, rng);
  }
}
