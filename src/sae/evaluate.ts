/**
 * One unsupervised evaluation of an SAE: a shuffled sample of activation vectors (as the paper's
 * evaluation buffer: 512 contexts, refreshed when half read) for the reconstruction metrics, and
 * token rows of the dataset for loss recovered. The eval config (sample source, size, seed, rows)
 * is hashed so stored numbers are only compared like-for-like.
 */
import { configHash } from '../util/hash.js';
import type { TokenSequences } from '../lm/data.js';
import type { Gpt, Site } from '../lm/model.js';
import { ActivationBuffer } from './buffer.js';
import type { Dictionary } from './dictionary.js';
import { gptPatchedLoss, lossRecovered, metricRows, reconstructionMetrics, type LossRecovered, type ReconstructionMetrics } from './metrics.js';
import { Rng } from './rng.js';
import type { ActivationSource } from './source.js';

export interface UnsupervisedEvalOptions {
  /** Activation vectors sampled (paper: 25, a single batch). */
  nVectors: number;
  /** Vectors per batch through the SAE. */
  batchSize?: number;
  seed: number;
  /** Contexts held by the sampling buffer (paper: 512). */
  bufferContexts?: number;
  denseThreshold?: number;
  lossRecovered?: {
    model: Gpt;
    layer: number;
    site: Site;
    data: TokenSequences;
    /** Rows scored (paper: 25). */
    contexts: number;
    /** Tokens per row (default: the source's context length). */
    contextLength: number;
    /** Identifies the LM in the eval config. */
    lmId: string;
  };
}

export interface UnsupervisedEval {
  reconstruction: ReconstructionMetrics;
  lossRecovered: LossRecovered | null;
  rows: { metric: string; value: number; details?: Record<string, unknown> }[];
  evalConfig: Record<string, unknown>;
  evalConfigHash: string;
}

export async function evaluateUnsupervised(dict: Dictionary, source: ActivationSource, o: UnsupervisedEvalOptions): Promise<UnsupervisedEval> {
  const batch = Math.min(o.batchSize ?? 4096, o.nVectors);
  const contexts = Math.max(1, Math.min(o.bufferContexts ?? 512, Math.floor(source.totalVectors / source.contextLength)));
  const buffer = new ActivationBuffer(source, { contexts, seed: o.seed, repeat: true });
  async function* batches() {
    for (let done = 0; done < o.nVectors; done += batch) yield await buffer.next(Math.min(batch, o.nVectors - done));
  }
  const reconstruction = await reconstructionMetrics(dict, batches(), { denseThreshold: o.denseThreshold });

  let lr: LossRecovered | null = null;
  let lrConfig: Record<string, unknown> | null = null;
  if (o.lossRecovered && o.lossRecovered.contexts > 0) {
    const l = o.lossRecovered;
    const n = Math.min(l.contexts, l.data.count);
    // rows chosen uniformly without replacement by the eval seed
    const picks = Array.from(new Rng(o.seed + 1).sampleWithoutReplacement(l.data.count, n)).sort((a, b) => a - b);
    const T = l.contextLength;
    const tokens = new Int32Array(n * T);
    for (let i = 0; i < n; i++) {
      const row = await l.data.read(picks[i], 1);
      tokens.set(row.subarray(0, T), i * T);
    }
    lr = lossRecovered(gptPatchedLoss(l.model, l.layer, l.site), dict, tokens, n, T);
    lrConfig = { lm: l.lmId, layer: l.layer, site: l.site, data: l.data.source, contexts: n, contextLength: T };
  }
  const evalConfig = {
    kind: 'unsupervised',
    sample: { source: source.describe(), nVectors: o.nVectors, seed: o.seed, bufferContexts: contexts },
    denseThreshold: o.denseThreshold ?? 0.1,
    lossRecovered: lrConfig,
  };
  return { reconstruction, lossRecovered: lr, rows: metricRows(reconstruction, lr), evalConfig, evalConfigHash: configHash(evalConfig) };
}
