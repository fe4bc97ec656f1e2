/**
 * What the GPT benches (gpt: forward, lm-train: training step) share: a case is a model shape and
 * batch; each case gets a random-weight Gpt, a timed step, the tokens/s it makes and, unless
 * --no-torch, PyTorch CPU doing the same thing on the same shapes in the same run
 * (scripts/lm-torch-bench.py) with the ratio to it.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Bench } from '../harness.js';
import { backendInfo, initBackend } from '../../src/tensor/backend.js';
import { makeConfig, type Activation } from '../../src/lm/config.js';
import { Gpt } from '../../src/lm/model.js';
import { PROJECT_ROOT } from '../../src/version.js';

export interface GptCase {
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

interface PeerResult {
  msMin: number;
  msMedian: number;
  tokensPerSec: number;
  torch: string;
  threads: number;
}

/** PyTorch's timings of `cases` (each a GptCase plus mode, warmup, reps), by case name. */
export function torchPeer(cases: object[]): Record<string, PeerResult> {
  const out = execFileSync('/usr/bin/python3', [path.join(PROJECT_ROOT, 'scripts', 'lm-torch-bench.py'), JSON.stringify({ cases })], {
    encoding: 'utf8',
    env: process.env,
    maxBuffer: 1 << 20,
  });
  const res: Record<string, PeerResult> = {};
  for (const line of out.split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as PeerResult & { name: string };
    res[r.name] = r;
  }
  return res;
}

/** The step a case times, set up on its model; `dispose` frees what the setup made. */
export interface GptCaseStep {
  step: () => Promise<void>;
  dispose(): void;
}

/**
 * Times `mode` on each case named by --cases (default `defaultCases`) for --reps (default 3) after
 * one warm-up, and records `<mode> <case>` with tokens/s and the PyTorch peer's figures.
 */
export async function benchGptCases(
  h: Bench,
  cases: Record<string, GptCase>,
  defaultCases: string,
  mode: 'forward' | 'train',
  prepare: (c: GptCase, model: Gpt) => GptCaseStep,
): Promise<void> {
  await initBackend();
  const reps = Number(h.option('reps', '3'));
  const names = h.option('cases', defaultCases).split(',');
  const withTorch = !h.args.includes('--no-torch');
  for (const name of names) {
    const c = cases[name];
    if (!c) throw new Error(`unknown case ${name} (known: ${Object.keys(cases).join(', ')})`);
    const cfg = makeConfig({ nLayer: c.nLayer, nHead: c.nHead, dModel: c.dModel, nCtx: c.nCtx, vocabSize: c.vocabSize, bias: c.bias, activation: c.activation });
    const model = Gpt.random(cfg, 1);
    const prepared = prepare(c, model);
    const t = await h.time(prepared.step, { reps, warmup: 1 });
    prepared.dispose();
    model.dispose();
    const ours = (c.batch * c.nCtx) / (t.median / 1000);
    const fields: Record<string, unknown> = {
      shape: `${c.nLayer}L/${c.dModel}/${c.nHead}H ctx ${c.nCtx} vocab ${c.vocabSize} B=${c.batch} ${c.activation}`,
      backend: backendInfo(),
      msMin: t.min,
      msMedian: t.median,
      tokensPerSec: Math.round(ours),
    };
    if (withTorch) {
      const p = torchPeer([{ ...c, mode, warmup: 1, reps }])[c.name];
      Object.assign(fields, {
        torch: { version: p.torch, threads: p.threads, msMin: p.msMin, msMedian: p.msMedian, tokensPerSec: Math.round(p.tokensPerSec) },
        ratioVsTorch: Number((ours / p.tokensPerSec).toFixed(3)),
      });
    }
    h.record(`${mode} ${c.name}`, fields);
  }
}
