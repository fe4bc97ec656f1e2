import { UserInputError } from '../errors.js';

type Tensors = Record<string, ArrayLike<number> | { data: ArrayLike<number> }> | Map<string, { data: ArrayLike<number> }>;

/**
 * The one finiteness check of every weight loader (SAE and LM checkpoints, resume states, imports):
 * NaN/inf weights would only surface later as NaN features, losses or metrics, so a loader rejects
 * them at once, naming the file and the tensor.
 */
export function assertFiniteTensors(file: string, tensors: Tensors): void {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of entries) {
    const data: ArrayLike<number> = 'data' in t && typeof t.data === 'object' ? t.data : (t as ArrayLike<number>);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new UserInputError(`${file}: tensor "${name}" holds ${data[i]} at index ${i}; NaN/inf weights (a damaged file or a diverged run) cannot be used`);
      }
    }
  }
}
