/**
 * saeboard's own tensor naming for GPT weights (the `model.safetensors` of a checkpoint). Matrices
 * are stored [in, out] so the forward pass multiplies `x @ W` without transposes; importers convert
 * nanoGPT ([out, in] Linear), HF GPT-2 (Conv1D, already [in, out]) and TransformerLens (per-head)
 * layouts into it. The qkv columns are [q | k | v], each H·Dh wide with head h at h·Dh..(h+1)·Dh,
 * as in nanoGPT's c_attn.
 */
import type { GptConfig } from './config.js';
import { UserInputError } from '../errors.js';

export type ParamShapes = Record<string, number[]>;

export function expectedParamShapes(c: GptConfig): ParamShapes {
  const d = c.dModel;
  const out: ParamShapes = {
    wte: [c.vocabSize, d],
    wpe: [c.nCtx, d],
  };
  for (let i = 0; i < c.nLayer; i++) {
    const p = `blocks.${i}.`;
    out[p + 'ln1.w'] = [d];
    out[p + 'attn.w_qkv'] = [d, 3 * d];
    out[p + 'attn.w_o'] = [d, d];
    out[p + 'ln2.w'] = [d];
    out[p + 'mlp.w_in'] = [d, c.dMlp];
    out[p + 'mlp.w_out'] = [c.dMlp, d];
    if (c.bias) {
      out[p + 'ln1.b'] = [d];
      out[p + 'attn.b_qkv'] = [3 * d];
      out[p + 'attn.b_o'] = [d];
      out[p + 'ln2.b'] = [d];
      out[p + 'mlp.b_in'] = [c.dMlp];
      out[p + 'mlp.b_out'] = [d];
    }
  }
  out['ln_f.w'] = [d];
  if (c.bias) out['ln_f.b'] = [d];
  if (!c.tiedHead) out['lm_head.w'] = [d, c.vocabSize];
  if (c.headBias) out['lm_head.b'] = [c.vocabSize];
  return out;
}

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Check that `tensors` holds exactly the tensors `config` needs, with the right shapes. The error
 * names the first missing, mis-shaped or unexpected tensor and the file it came from.
 */
export function checkParams(c: GptConfig, tensors: Record<string, { shape: number[] }>, source: string): void {
  const want = expectedParamShapes(c);
  for (const [name, shape] of Object.entries(want)) {
    const t = tensors[name];
    if (!t) throw new UserInputError(`${source}: missing tensor "${name}" (expected shape [${shape}])`);
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw new UserInputError(`${source}: tensor "${name}" has shape [${t.shape}], config needs [${shape}]`);
    }
  }
  for (const name of Object.keys(tensors)) {
    if (!(name in want)) throw new UserInputError(`${source}: unexpected tensor "${name}" (not part of this config)`);
  }
}
