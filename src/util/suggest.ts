/** Edit distance (Levenshtein), for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The `n` candidates closest to `input` (case-insensitive), closest first. */
export function closest(input: string, candidates: Iterable<string>, n = 3): string[] {
  const x = input.toLowerCase().trim();
  return [...candidates]
    .map((c) => ({ c, d: editDistance(x, c.toLowerCase()) }))
    .sort((p, q) => p.d - q.d || p.c.localeCompare(q.c))
    .slice(0, n)
    .map((p) => p.c);
}
