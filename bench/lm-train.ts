/**
 * GPT training throughput (tokens/s) for the shipped small models' shapes, next to PyTorch CPU
 * (Debian python3-torch, 2 threads) doing the same step (forward, cross-entropy, backward,
 * clip_grad_norm_ 1.0, AdamW) in the same run:
 *
 *   npm run bench -- lm-train [--reps 3] [--cases othello-small,chess-small] [--no-torch]
 *
 * Our step is the trainer's own (src/lm/train.ts): variableGrads, global-norm clipping, AdamW
 * with the moments as variables, loss read back every step.
 */
import type { Bench } from './harness.js';
import { backendInfo, initBackend, tf } from '../src/tensor/backend.js';
import { makeConfig, type Activation } from '../src/lm/config.js';
import { Gpt } from '../src/lm/model.js';
import { crossEntropy } from '../src/lm/ops.js';
import { AdamW, clipByGlobalNorm } from '../src/lm/optim.js';
import { torchPeer } from './gpt.js';

interface Case {
  name: string;
  nLayer: number;
  nHead: number;
  dModel: number;
  nCtx: number;
  vocabSize: number;
  batch: number;
  activation: Activation;
  bias: boolean;
}

// The shapes of models/othello-small and models/chess-small (scripts/train-shipped-models.sh).
const CASES: Record<string, Case> = {
  'othello-small': { name: 'othello-small', nLayer: 4, nHead: 8, dModel: 256, nCtx: 59, vocabSize: 61, batch: 64, activation: 'gelu_new', bias: true },
  'chess-small': { name: 'chess-small', nLayer: 6, nHead: 6, dModel: 192, nCtx: 256, vocabSize: 32, batch: 24, activation: 'gelu_new', bias: true },
};

export default async function (h: Bench): Promise<void> {
  await initBackend();
  const reps = Number(h.option('reps', '3'));
  const names = h.option('cases', Object.keys(CASES).join(',')).split(',');
  const withTorch = !h.args.includes('--no-torch');
  for (const name of names) {
    const c = CASES[name];
    if (!c) throw new Error(`unknown case ${name} (known: ${Object.keys(CASES).join(', ')})`);
    const cfg = makeConfig({ nLayer: c.nLayer, nHead: c.nHead, dModel: c.dModel, nCtx: c.nCtx, vocabSize: c.vocabSize, bias: c.bias, activation: c.activation });
    const model = Gpt.random(cfg, 1);
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
    const t = await h.time(step, { reps, warmup: 1 });
    opt.dispose();
    model.dispose();
    rows.dispose();
    const ours = (B * T) / (t.median / 1000);
    const fields: Record<string, unknown> = {
      shape: `${c.nLayer}L/${c.dModel}/${c.nHead}H ctx ${c.nCtx} vocab ${c.vocabSize} B=${c.batch} ${c.activation}`,
      backend: backendInfo(),
      msMin: t.min,
      msMedian: t.median,
      tokensPerSec: Math.round(ours),
    };
    if (withTorch) {
      const p = torchPeer([{ ...c, mode: 'train', warmup: 1, reps }])[c.name];
      Object.assign(fields, {
        torch: { version: p.torch, threads: p.threads, msMin: p.msMin, msMedian: p.msMedian, tokensPerSec: Math.round(p.tokensPerSec) },
        ratioVsTorch: Number((ours / p.tokensPerSec).toFixed(3)),
      });
    }
    h.record(`train ${c.name}`, fields);
  }
}
