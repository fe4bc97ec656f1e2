/** The trainer registry: trainer name → class; `createTrainer` builds a fresh (or given) dictionary. */
import { UserInputError } from '../../errors.js';
import type { TrainerConfig, TrainerName } from '../config.js';
import { initDictionaryTensors } from '../dictionaries/index.js';
import { createDictionary, type Dictionary } from '../dictionary.js';
import { Rng } from '../rng.js';
import type { Trainer } from '../trainer.js';
import { BatchTopKTrainer } from './batchTopK.js';
import { GatedTrainer } from './gated.js';
import { GatedAnnealTrainer } from './gatedAnneal.js';
import { JumpReluTrainer } from './jumpRelu.js';
import { PAnnealTrainer } from './pAnneal.js';
import { StandardTrainer } from './standard.js';
import { TopKTrainer } from './topK.js';

export { StandardTrainer, PAnnealTrainer, GatedTrainer, GatedAnnealTrainer, TopKTrainer, BatchTopKTrainer, JumpReluTrainer };

type Ctor = new (config: never, dictionary: Dictionary) => Trainer;

const TRAINERS: Record<TrainerName, Ctor> = {
  standard: StandardTrainer,
  gated: GatedTrainer,
  p_anneal: PAnnealTrainer,
  gated_anneal: GatedAnnealTrainer,
  top_k: TopKTrainer,
  batch_top_k: BatchTopKTrainer,
  jump_relu: JumpReluTrainer,
};

/** Fresh dictionary for a config, initialised from `config.seed` as dictionary_learning does. */
export function initDictionary(config: TrainerConfig): Dictionary {
  const tensors = initDictionaryTensors(config.dictionary, config.dIn, config.dictSize, new Rng(config.seed));
  const meta = 'k' in config ? { k: config.k } : {};
  return createDictionary(config.dictionary, config.dIn, config.dictSize, tensors, meta);
}

/** A trainer for `config`; it takes ownership of `dictionary` (default: a fresh one). */
export function createTrainer(config: TrainerConfig, dictionary?: Dictionary): Trainer {
  const Cls = TRAINERS[config.trainer];
  if (!Cls) throw new UserInputError(`unknown trainer "${String((config as { trainer: unknown }).trainer)}"`);
  const dict = dictionary ?? initDictionary(config);
  if (dict.name !== config.dictionary) throw new UserInputError(`trainer ${config.trainer} needs a ${config.dictionary} dictionary, got ${dict.name}`);
  return new Cls(config as never, dict);
}
