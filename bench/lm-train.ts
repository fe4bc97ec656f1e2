/**
 * GPT training throughput (tokens/s) for the shipped small models' shapes, next to PyTorch CPU
 * (Debian python3-torch, 2 threads) doing the same step (forward, cross-entropy, backward,
 * clip_grad_norm_ 1.0, AdamW) in the same run:
 *
 *   npm run bench -- lm-train [--reps 3] [--cases othello-small,chess-small] [--no-torch] [--profile]
 *
 * --profile adds a record per case of where one step's time goes, by tfjs kernel (kernelProfile).
 *
 * Our step is the trainer's own (src/lm/train.ts): variableGrads, global-norm clipping, AdamW
 * with the moments as variables, loss read back every step.
 */
import type { Bench } from './harness.js';
import { tf } from '../src/tensor/backend.js';
import { crossEntropy } from '../src/lm/ops.js';
import { AdamW, clipByGlobalNorm } from '../src/lm/optim.js';
import { benchGptCases, type GptCase } from './lib/gpt-cases.js';

// The shapes of models/othello-small and models/chess-small (scripts/train-shipped-models.sh).
const CASES: Record<string, GptCase> = {
  'othello-small': { name: 'othello-small', nLayer: 4, nHead: 8, dModel: 256, nCtx: 59, vocabSize: 61, batch: 64, activation: 'gelu_new', bias: true },
  'chess-small': { name: 'chess-small', nLayer: 6, nHead: 6, dModel: 192, nCtx: 256, vocabSize: 32, batch: 24, activation: 'gelu_new', bias: true },
};

export default async function (h: Bench): Promise<void> {
  await benchGptCases(h, CASES, Object.keys(CASES).join(','), 'train', (c, model) => {
    const vars = model.variables();
    const list = vars.map((v) => v.variable);
    const opt = new AdamW(vars, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
    const rows = tf.randomUniformInt([c.batch, c.nCtx + 1], 1, c.vocabSize) as tf.Tensor2D;
    const B = c.batch;
    const T = c.nCtx;
    const step = async () => {
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() => {
            const x = rows.slice([0, 0], [B, T]) as tf.Tensor2D;
            const y = rows.slice([0, 1], [B, T]).reshape([B * T]) as tf.Tensor1D;
            return crossEntropy(model.forward(x).reshape([B * T, c.vocabSize]) as tf.Tensor2D, y);
          }),
        list,
      );
      const named: Record<string, tf.Tensor> = {};
      vars.forEach((v, i) => (named[v.name] = grads[list[i].name]));
      const { clipped } = clipByGlobalNorm(named, 1);
      opt.apply(clipped, 1e-3);
      tf.dispose(Object.values(clipped));
      await value.data();
      value.dispose();
    };
    return {
      step,
      dispose: () => {
        opt.dispose();
        rows.dispose();
      },
    };
  });
}
