/** Index of the first maximum (torch.argmax semantics on ties). */
export function argmaxFirst(values: ArrayLike<number>, start = 0, end = values.length): number {
  let best = start;
  for (let i = start + 1; i < end; i++) if (values[i] > values[best]) best = i;
  return best;
}
