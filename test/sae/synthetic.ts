/** Shared driver for the synthetic ground-truth recovery tests. */
import { tf } from '../../src/tensor/backend.js';
import { resolveTrainerConfig, Rng } from '../../src/sae/index.js';
import { meanMaxCosine, randomUnitDictionary, sampleSparse } from '../../src/sae/synthetic.js';
import { createTrainer } from '../../src/sae/trainers/index.js';

export const D = 64;
export const N_TRUE = 256;
export const BATCH = 256;

/**
 * Train on x = Σ a_i v_i (4 of 256 known unit vectors in d = 64, a_i ~ U[0.5, 1.5]) and return
 * the mean over true vectors of the best cosine similarity with a learnt decoder row.
 */
export function recover(cfg: Record<string, unknown>): { mmcs: number; l0: number; fve: number } {
  const truth = randomUnitDictionary(D, N_TRUE, 1);
  const config = resolveTrainerConfig({ dIn: D, dictSize: N_TRUE, batchSize: BATCH, ...cfg });
  const trainer = createTrainer(config);
  const rng = new Rng(2);
  const buf = new Float32Array(BATCH * D);
  let last = { l0: 0, fve: 0 };
  for (let s = 0; s < config.steps; s++) {
    sampleSparse(truth, BATCH, rng, { active: 4 }, buf);
    const x = tf.tensor2d(buf, [BATCH, D]);
    last = trainer.update(x);
    x.dispose();
  }
  const mmcs = meanMaxCosine(truth, trainer.dictionary.params.W_dec.dataSync() as Float32Array, N_TRUE);
  trainer.dispose();
  return { mmcs, l0: last.l0, fve: last.fve };
}
