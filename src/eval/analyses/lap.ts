/**
 * Dense linear assignment (minimum-cost perfect matching of an n×n cost matrix) by Jonker &
 * Volgenant (1987): column reduction with reduction transfer, two rounds of augmenting row
 * reduction, then shortest augmenting paths (Dijkstra over reduced costs, stopped at the first free
 * column). O(n³) in the worst case, but on decoder-similarity matrices of two related SAEs most
 * rows are settled by the reductions, so F = 4096 takes a fraction of a second instead of the
 * Hungarian method's n³ = 7·10¹⁰ steps. Follows the structure of src-d/lapjv's lapjv.cpp.
 */

/**
 * Solve min Σ cost[i, x[i]] over permutations x. `cost` is row-major n×n (float32 is enough: the
 * duals are kept in float64). Returns x (row → column) and y (column → row).
 */
export function solveLap(cost: Float32Array, n: number): { rowToCol: Int32Array; colToRow: Int32Array } {
  if (cost.length !== n * n) throw new Error(`solveLap: ${cost.length} costs for an ${n}×${n} matrix`);
  const x = new Int32Array(n).fill(-1);
  const y = new Int32Array(n).fill(-1);
  if (n === 0) return { rowToCol: x, colToRow: y };
  const v = new Float64Array(n);
  const freeRows = new Int32Array(n);
  let nFree = columnReduction(cost, n, x, y, v, freeRows);
  for (let round = 0; round < 2 && nFree > 0; round++) nFree = augmentingRowReduction(cost, n, nFree, freeRows, x, y, v);
  if (nFree > 0) augment(cost, n, nFree, freeRows, x, y, v);
  return { rowToCol: x, colToRow: y };
}

function columnReduction(cost: Float32Array, n: number, x: Int32Array, y: Int32Array, v: Float64Array, freeRows: Int32Array): number {
  v.fill(Infinity);
  for (let i = 0; i < n; i++) {
    const r = i * n;
    for (let j = 0; j < n; j++) {
      const c = cost[r + j];
      if (c < v[j]) {
        v[j] = c;
        y[j] = i;
      }
    }
  }
  const unique = new Uint8Array(n).fill(1);
  for (let j = n - 1; j >= 0; j--) {
    const i = y[j];
    if (x[i] < 0) x[i] = j;
    else {
      unique[i] = 0;
      y[j] = -1;
    }
  }
  let nFree = 0;
  for (let i = 0; i < n; i++) {
    if (x[i] < 0) freeRows[nFree++] = i;
    else if (unique[i]) {
      const j = x[i];
      let min = Infinity;
      const r = i * n;
      for (let j2 = 0; j2 < n; j2++) {
        if (j2 === j) continue;
        const c = cost[r + j2] - v[j2];
        if (c < min) min = c;
      }
      if (min !== Infinity) v[j] -= min;
    }
  }
  return nFree;
}

function augmentingRowReduction(cost: Float32Array, n: number, nFreeIn: number, freeRows: Int32Array, x: Int32Array, y: Int32Array, v: Float64Array): number {
  let current = 0;
  let newFree = 0;
  let rrCount = 0;
  while (current < nFreeIn) {
    rrCount++;
    const freeI = freeRows[current++];
    const r = freeI * n;
    let j1 = 0;
    let v1 = cost[r] - v[0];
    let j2 = -1;
    let v2 = Infinity;
    for (let j = 1; j < n; j++) {
      const c = cost[r + j] - v[j];
      if (c < v2) {
        if (c >= v1) {
          v2 = c;
          j2 = j;
        } else {
          v2 = v1;
          v1 = c;
          j2 = j1;
          j1 = j;
        }
      }
    }
    let i0 = y[j1];
    const v1New = v[j1] - (v2 - v1);
    const v1Lowers = v1New < v[j1];
    if (rrCount < current * n) {
      if (v1Lowers) v[j1] = v1New;
      else if (i0 >= 0 && j2 >= 0) {
        j1 = j2;
        i0 = y[j2];
      }
      if (i0 >= 0) {
        if (v1Lowers) freeRows[--current] = i0;
        else freeRows[newFree++] = i0;
      }
    } else if (i0 >= 0) freeRows[newFree++] = i0;
    x[freeI] = j1;
    y[j1] = freeI;
  }
  return newFree;
}

function augment(cost: Float32Array, n: number, nFree: number, freeRows: Int32Array, x: Int32Array, y: Int32Array, v: Float64Array): void {
  const pred = new Int32Array(n);
  const cols = new Int32Array(n);
  const d = new Float64Array(n);
  for (let f = 0; f < nFree; f++) {
    const start = freeRows[f];
    let j = findPath(cost, n, start, y, v, pred, cols, d);
    let i = -1;
    while (i !== start) {
      i = pred[j];
      y[j] = i;
      const k = j;
      j = x[i];
      x[i] = k;
    }
  }
}

/** Dijkstra from a free row over reduced costs; returns the free column reached, updates v. */
function findPath(cost: Float32Array, n: number, start: number, y: Int32Array, v: Float64Array, pred: Int32Array, cols: Int32Array, d: Float64Array): number {
  let lo = 0;
  let hi = 0;
  let nReady = 0;
  const r0 = start * n;
  for (let j = 0; j < n; j++) {
    cols[j] = j;
    pred[j] = start;
    d[j] = cost[r0 + j] - v[j];
  }
  let finalJ = -1;
  while (finalJ === -1) {
    if (lo === hi) {
      nReady = lo;
      // move every column at the minimal distance to [lo, hi)
      hi = lo + 1;
      let mind = d[cols[lo]];
      for (let k = hi; k < n; k++) {
        const j = cols[k];
        if (d[j] <= mind) {
          if (d[j] < mind) {
            hi = lo;
            mind = d[j];
          }
          cols[k] = cols[hi];
          cols[hi++] = j;
        }
      }
      for (let k = lo; k < hi; k++) {
        if (y[cols[k]] < 0) {
          finalJ = cols[k];
          break;
        }
      }
    }
    if (finalJ === -1) {
      // scan the columns at the minimal distance (lo/hi only advance when none is free, as in lapjv)
      let sLo = lo;
      let sHi = hi;
      while (sLo !== sHi && finalJ === -1) {
        const j0 = cols[sLo++];
        const i = y[j0];
        const mind = d[j0];
        const r = i * n;
        const h = cost[r + j0] - v[j0] - mind;
        for (let k = sHi; k < n; k++) {
          const j = cols[k];
          const red = cost[r + j] - v[j] - h;
          if (red < d[j]) {
            d[j] = red;
            pred[j] = i;
            if (red === mind) {
              if (y[j] < 0) {
                finalJ = j;
                break;
              }
              cols[k] = cols[sHi];
              cols[sHi++] = j;
            }
          }
        }
      }
      if (finalJ === -1) {
        lo = sLo;
        hi = sHi;
      }
    }
  }
  const mind = d[cols[lo]];
  for (let k = 0; k < nReady; k++) {
    const j = cols[k];
    v[j] += d[j] - mind;
  }
  return finalJ;
}
