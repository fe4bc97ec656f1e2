/**
 * Public API of the SAE area (import from here, not from the individual files):
 * - dictionaries: `Dictionary` (encode/decode/forward), `createDictionary`, `loadSae`
 * - configs: `resolveTrainerConfig`, `trainerConfigHash`, `TrainerConfig`
 */
import './dictionaries/index.js';

export {
  TRAINER_NAMES,
  DICTIONARY_NAMES,
  DICTIONARY_OF,
  resolveTrainerConfig,
  trainerConfigHash,
  sparsityKnob,
  type TrainerConfig,
  type TrainerName,
  type DictionaryName,
} from './config.js';
export { createDictionary, dictionarySpec, knownDictionaries, type Dictionary, type DictionaryMeta, type HostTensor } from './dictionary.js';
export { initDictionaryTensors } from './dictionaries/index.js';
export { Rng } from './rng.js';
export { loadSaeDir, saveDictionary, dictionaryConfig, readSaeConfig, type SaeDirConfig } from './storage.js';
