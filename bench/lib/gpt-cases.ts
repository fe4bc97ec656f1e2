/**
 * What the GPT benches (gpt: forward, lm-train: training step) share: a case is a model shape and
 * batch; each case gets a random-weight Gpt, a timed step, the tokens/s it makes and, unless
 * --no-torch, PyTorch CPU doing the same thing on the same shapes in the same run
 * (scripts/lm-torch-bench.py --serve), interleaved step by step with ours (Bench.compare), with
 * the ratio of medians.
 */
import path from 'node:path';
import { COMPARE_REPS, sideSummary, type Bench } from '../harness.js';
import { startTorchPeer } from './peer.js';
import { backendInfo, initBackend, tf } from '../../src/tensor/backend.js';
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

/** The step a case times, set up on its model; `dispose` frees what the setup made. */
export interface GptCaseStep {
  step: () => Promise<void>;
  dispose(): void;
}

/**
 * Times `mode` on each case named by --cases (default `defaultCases`) for --reps (default
 * COMPARE_REPS) after one warm-up, interleaved with the PyTorch peer unless --no-torch, and records
 * `<mode> <case>` with tokens/s, both sides' median/min/spread and the ratio of medians.
 */
export async function benchGptCases(
  h: Bench,
  cases: Record<string, GptCase>,
  defaultCases: string,
  mode: 'forward' | 'train',
  prepare: (c: GptCase, model: Gpt) => GptCaseStep,
): Promise<void> {
  await initBackend();
  const reps = Number(h.option('reps', String(COMPARE_REPS)));
  const names = h.option('cases', defaultCases).split(',');
  for (const name of names) if (!cases[name]) throw new Error(`unknown case ${name} (known: ${Object.keys(cases).join(', ')})`);
  const started = h.args.includes('--no-torch') ? null : await startTorchPeer(path.join(PROJECT_ROOT, 'scripts', 'lm-torch-bench.py'));
  if (started?.error) h.record('torch peer', { error: started.error });
  const peer = started?.peer ?? null;
  try {
    for (const name of names) {
      const c = cases[name];
      const cfg = makeConfig({ nLayer: c.nLayer, nHead: c.nHead, dModel: c.dModel, nCtx: c.nCtx, vocabSize: c.vocabSize, bias: c.bias, activation: c.activation });
      const model = Gpt.random(cfg, 1);
      const prepared = prepare(c, model);
      const tokens = c.batch * c.nCtx;
      const shape = `${c.nLayer}L/${c.dModel}/${c.nHead}H ctx ${c.nCtx} vocab ${c.vocabSize} B=${c.batch} ${c.activation}`;
      try {
        if (peer) {
          const meta = await peer.setup({ ...c, mode });
          const cmp = await h.compare(
            [
              { name: 'saeboard', step: prepared.step },
              { name: 'torch', step: () => peer.step() },
            ],
            { reps, warmup: 1 },
          );
          const ours = cmp.sides.saeboard;
          const theirs = cmp.sides.torch;
          h.record(`${mode} ${c.name}`, {
            shape,
            backend: backendInfo(),
            ...sideSummary(ours),
            tokensPerSec: Math.round(tokens / (ours.median / 1000)),
            torch: { version: meta.torch, threads: meta.threads, ...sideSummary(theirs), tokensPerSec: Math.round(tokens / (theirs.median / 1000)) },
            // > 1: saeboard is faster (ratio of the medians, interleaved in this run)
            ratioVsTorch: cmp.ratioOfMedians,
            order: 'interleaved',
            settleMs: cmp.settleMs,
            load1Before: cmp.load1Before,
            load1After: cmp.load1After,
            loaded: cmp.loaded,
          });
        } else {
          const t = await h.time(prepared.step, { reps, warmup: 1 });
          h.record(`${mode} ${c.name}`, { shape, backend: backendInfo(), ...sideSummary(t), tokensPerSec: Math.round(tokens / (t.median / 1000)) });
        }
        if (h.args.includes('--profile')) h.record(`${mode} ${c.name} profile`, { shape, ...(await kernelProfile(prepared.step)) });
      } finally {
        prepared.dispose();
        model.dispose();
      }
    }
  } finally {
    await peer?.close();
  }
}

/**
 * Where one step's time goes, by tfjs kernel (tf.profile over one extra step; the wasm backend
 * times each kernel call by the wall clock, as its kernels run synchronously). A composite op's
 * kernels are counted inside it as well as on their own, so the rows overlap and sum past the step.
 */
export async function kernelProfile(step: () => Promise<void>, top = 16): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const info = await tf.profile(step);
  const profiledStepMs = performance.now() - t0;
  const by = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const e = by.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += Number(k.kernelTimeMs) || 0;
    e.calls++;
    by.set(k.name, e);
  }
  const rows = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms);
  return {
    profiledStepMs: Math.round(profiledStepMs),
    kernelCalls: info.kernels.length,
    kernelsMs: Object.fromEntries(rows.slice(0, top).map(([name, e]) => [name, { ms: Math.round(e.ms * 10) / 10, calls: e.calls }])),
  };
}
