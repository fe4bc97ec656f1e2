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
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Bench } from './harness.js';
import { backendInfo, initBackend, tf } from '../src/tensor/backend.js';
import { makeConfig, type Activation } from '../src/lm/config.js';
import { Gpt } from '../src/lm/model.js';
import { PROJECT_ROOT } from '../src/version.js';

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

const CASES: Record<string, Case> = {
  othello: { name: 'othello', nLayer: 8, nHead: 8, dModel: 512, nCtx: 59, vocabSize: 61, batch: 8, activation: 'gelu_new', bias: true },
  chess: { name: 'chess', nLayer: 8, nHead: 8, dModel: 512, nCtx: 1023, vocabSize: 32, batch: 8, activation: 'gelu_new', bias: false },
  'othello-exact': { name: 'othello-exact', nLayer: 8, nHead: 8, dModel: 512, nCtx: 59, vocabSize: 61, batch: 8, activation: 'gelu', bias: true },
};

export function torchPeer(cases: object[]): Record<string, { msMin: number; msMedian: number; tokensPerSec: number; torch: string; threads: number }> {
  const out = execFileSync('/usr/bin/python3', [path.join(PROJECT_ROOT, 'scripts', 'lm-torch-bench.py'), JSON.stringify({ cases })], {
    encoding: 'utf8',
    env: process.env,
    maxBuffer: 1 << 20,
  });
  const res: Record<string, { msMin: number; msMedian: number; tokensPerSec: number; torch: string; threads: number }> = {};
  for (const line of out.split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { name: string; msMin: number; msMedian: number; tokensPerSec: number; torch: string; threads: number };
    res[r.name] = r;
  }
  return res;
}

export default async function (h: Bench): Promise<void> {
  await initBackend();
  const reps = Number(h.option('reps', '3'));
  const names = h.option('cases', 'othello,chess,othello-exact').split(',');
  const withTorch = !h.args.includes('--no-torch');
  for (const name of names) {
    const c = CASES[name];
    if (!c) throw new Error(`unknown case ${name} (known: ${Object.keys(CASES).join(', ')})`);
    const cfg = makeConfig({ nLayer: c.nLayer, nHead: c.nHead, dModel: c.dModel, nCtx: c.nCtx, vocabSize: c.vocabSize, bias: c.bias, activation: c.activation });
    const model = Gpt.random(cfg, 1);
    const tokens = tf.randomUniformInt([c.batch, c.nCtx], 0, c.vocabSize) as tf.Tensor2D;
    const t = await h.time(
      async () => {
        const logits = model.forward(tokens);
        await logits.data(); // includes reading the logits back, as a caller would
        logits.dispose();
      },
      { reps, warmup: 1 },
    );
    model.dispose();
    tokens.dispose();
    const ours = (c.batch * c.nCtx) / (t.median / 1000);
    const fields: Record<string, unknown> = {
      shape: `${c.nLayer}L/${c.dModel}/${c.nHead}H ctx ${c.nCtx} vocab ${c.vocabSize} B=${c.batch} ${c.activation}`,
      backend: backendInfo(),
      msMin: t.min,
      msMedian: t.median,
      tokensPerSec: Math.round(ours),
    };
    if (withTorch) {
      const p = torchPeer([{ ...c, mode: 'forward', warmup: 1, reps }])[c.name];
      Object.assign(fields, {
        torch: { version: p.torch, threads: p.threads, msMin: p.msMin, msMedian: p.msMedian, tokensPerSec: Math.round(p.tokensPerSec) },
        ratioVsTorch: Number((ours / p.tokensPerSec).toFixed(3)),
      });
    }
    h.record(`forward ${c.name}`, fields);
  }
}
