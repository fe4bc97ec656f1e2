/**
 * The GPT's typed configuration, saved as `config.json` next to every weight file. One config
 * describes nanoGPT, TransformerLens and HF GPT-2 shapes alike (models.md §1–2).
 */
import { z } from 'zod';
import { UserInputError } from '../errors.js';

export const ACTIVATIONS = ['gelu', 'gelu_new'] as const;
/**
 * `gelu` = exact erf GELU (torch `nn.GELU()`, TransformerLens `"gelu"`, current nanoGPT);
 * `gelu_new` = the tanh approximation (GPT-2 / HF `gelu_new`, old nanoGPT `new_gelu`,
 * TransformerLens `"gelu_new"`).
 */
export type Activation = (typeof ACTIVATIONS)[number];

const positiveInt = z.number().int().positive();

export const gptConfigSchema = z
  .object({
    nLayer: positiveInt,
    nHead: positiveInt,
    dModel: positiveInt,
    /** Context length = number of learned position embeddings. */
    nCtx: positiveInt,
    vocabSize: positiveInt,
    /** MLP hidden width; nanoGPT always uses 4·dModel. */
    dMlp: positiveInt,
    /** Linear layers and LayerNorms carry biases (nanoGPT `bias`). */
    bias: z.boolean(),
    activation: z.enum(ACTIVATIONS),
    /** Unembedding = wteᵀ (nanoGPT weight tying). When false, `lm_head.w` is its own tensor. */
    tiedHead: z.boolean(),
    /** Unembedding bias (TransformerLens `unembed.b_U`); nanoGPT and HF GPT-2 have none. */
    headBias: z.boolean(),
    lnEps: z.number().positive(),
  })
  .strict()
  .refine((c) => c.dModel % c.nHead === 0, { message: 'dModel must be a multiple of nHead', path: ['dModel'] });

export type GptConfig = z.infer<typeof gptConfigSchema>;

/** nanoGPT defaults for anything not given. */
export function makeConfig(partial: Pick<GptConfig, 'nLayer' | 'nHead' | 'dModel' | 'nCtx' | 'vocabSize'> & Partial<GptConfig>): GptConfig {
  return parseConfig({
    dMlp: 4 * partial.dModel,
    bias: true,
    activation: 'gelu',
    tiedHead: false,
    headBias: false,
    lnEps: 1e-5,
    ...partial,
  });
}

/** Validate an untrusted config object; errors name the offending field. */
export function parseConfig(raw: unknown, where = 'config'): GptConfig {
  const r = gptConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue.path.length ? issue.path.join('.') : '(root)';
    throw new UserInputError(`${where}: field "${field}": ${issue.message}`);
  }
  return r.data;
}

export function headDim(c: GptConfig): number {
  return c.dModel / c.nHead;
}

/** Paper shapes (models.md §1–2). */
export const OTHELLO_GPT_PAPER: GptConfig = makeConfig({
  nLayer: 8, nHead: 8, dModel: 512, nCtx: 59, vocabSize: 61, activation: 'gelu', bias: true, headBias: true,
});
export const CHESS_GPT_PAPER: GptConfig = makeConfig({
  nLayer: 8, nHead: 8, dModel: 512, nCtx: 1023, vocabSize: 32, activation: 'gelu', bias: false,
});

/** Parameter count (weights the model actually holds, tied head counted once). */
export function parameterCount(c: GptConfig): number {
  const { dModel: d, dMlp: m, nLayer: L, vocabSize: v, nCtx: t } = c;
  const b = c.bias ? 1 : 0;
  const perBlock = 2 * d * (1 + b) + d * 3 * d + b * 3 * d + d * d + b * d + d * m + b * m + m * d + b * d;
  return v * d + t * d + L * perBlock + d * (1 + b) + (c.tiedHead ? 0 : d * v) + (c.headBias ? v : 0);
}
