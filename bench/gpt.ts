/**
 * GPT forward throughput (tokens/s) at the paper's shapes, batch 8, next to PyTorch CPU
 * (Debian python3-torch, 2 threads) measured in the same run on the same shapes:
 *
 *   npm run bench -- gpt [--reps 3] [--cases othello,chess,othello-exact] [--no-torch]
 *
 * Cases: Othello-GPT 8L/512/8H ctx 59 vocab 61 and ChessGPT 8L/512/8H ctx 1023 vocab 32, both
 * with the tanh GELU the peer script of perf.md uses; "othello-exact" uses the exact erf GELU of
 * the real Othello-GPT (models.md §2) on both sides. Random weights: speed does not depend on them.
 */
import type { Bench } from './harness.js';
import { tf } from '../src/tensor/backend.js';
import { benchGptCases, type GptCase } from './lib/gpt-cases.js';

const CASES: Record<string, GptCase> = {
  othello: { name: 'othello', nLayer: 8, nHead: 8, dModel: 512, nCtx: 59, vocabSize: 61, batch: 8, activation: 'gelu_new', bias: true },
  chess: { name: 'chess', nLayer: 8, nHead: 8, dModel: 512, nCtx: 1023, vocabSize: 32, batch: 8, activation: 'gelu_new', bias: false },
  'othello-exact': { name: 'othello-exact', nLayer: 8, nHead: 8, dModel: 512, nCtx: 59, vocabSize: 61, batch: 8, activation: 'gelu', bias: true },
};

export default async function (h: Bench): Promise<void> {
  await benchGptCases(h, CASES, 'othello,chess,othello-exact', 'forward', (c, model) => {
    const tokens = tf.randomUniformInt([c.batch, c.nCtx], 0, c.vocabSize) as tf.Tensor2D;
    return {
      step: async () => {
        const logits = model.forward(tokens);
        await logits.data(); // includes reading the logits back, as a caller would
        logits.dispose();
      },
      dispose: () => tokens.dispose(),
    };
  });
}
