/**
 * saeboard's WebAssembly SGEMM (native/wasm/sgemm.wasm), what the no-compiler path (wasm+js) runs
 * its large products on: the committed binary is built from this checkout's sgemm.c (and a
 * rebuild gives the same bytes, where clang can target wasm32), and the raw kernel is right against
 * float64 for every transpose form, with shapes that cross each blocking edge (MC 128, NC 1024,
 * KC 256) and the micro-tile (4×8), leading dimensions wider than the matrix, accumulation into C
 * and K = 0.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WASM_SGEMM_FILE, WASM_SGEMM_FLAGS, WASM_SGEMM_MANIFEST, WASM_SGEMM_SOURCE, wasmSourceHash } from '../../native/wasm/sgemm.mjs';
import { WASM_SGEMM_PATH } from '../../src/tensor/kernels/gemm_pool.js';
import { maxRelativeError, randomArray, refMatMul, seededRandom } from './reference.js';

const clangWasm =
  spawnSync('clang', ['--print-targets'], { encoding: 'utf8' }).stdout?.includes('wasm32') === true && spawnSync('wasm-ld', ['--version']).status === 0;

describe('wasm SGEMM (native/wasm)', () => {
  it('is built from this checkout\'s sgemm.c (else: npm run build:wasm)', () => {
    expect(WASM_SGEMM_PATH).toBe(WASM_SGEMM_FILE);
    const manifest = JSON.parse(readFileSync(WASM_SGEMM_MANIFEST, 'utf8'));
    expect(manifest.sourceHash, 'native/wasm/sgemm.c changed since sgemm.wasm was built: run npm run build:wasm and commit it').toBe(wasmSourceHash());
    const mod = new WebAssembly.Module(readFileSync(WASM_SGEMM_FILE));
    expect(WebAssembly.Module.imports(mod)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(mod).map((e) => e.name).sort()).toEqual(['__stack_pointer', 'count_nonzero', 'csr_build', 'gemm_scratch_floats', 'sddmm_rows', 'sgemm', 'spmm_rows', 'topk_mask_rows', 'transpose']);
  });

  it.runIf(clangWasm)('rebuilds to the same bytes', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'saeboard-wasm-'));
    try {
      const out = path.join(dir, 'sgemm.wasm');
      const r = spawnSync('clang', [...WASM_SGEMM_FLAGS, '-o', out, WASM_SGEMM_SOURCE], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(out)).toBe(true);
      expect(Buffer.compare(readFileSync(out), readFileSync(WASM_SGEMM_FILE))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // one instance over a shared memory, as the gemm pool makes them
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536, shared: true });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(WASM_SGEMM_FILE)), { env: { memory } });
  type Fn = (...args: number[]) => number;
  const exports = instance.exports as Record<'sgemm' | 'gemm_scratch_floats' | 'count_nonzero' | 'csr_build' | 'spmm_rows' | 'transpose' | 'topk_mask_rows', Fn> & { __stack_pointer: WebAssembly.Global };
  exports.__stack_pointer.value = 65536;
  const scratch = 65536;

  /** Runs the kernel on operands placed in the memory (A and B with `pad` extra columns per row). */
  function run(M: number, N: number, K: number, transA: boolean, transB: boolean, opts: { pad?: number; c0?: Float32Array } = {}) {
    const pad = opts.pad ?? 0;
    const [aRows, aCols] = transA ? [K, M] : [M, K];
    const [bRows, bCols] = transB ? [N, K] : [K, N];
    const [lda, ldb, ldc] = [aCols + pad, bCols + pad, N + pad];
    const aData = randomArray(aRows * aCols, M + 7 * K);
    const bData = randomArray(bRows * bCols, N + 3 * K);
    const aAt = scratch + 4 * exports.gemm_scratch_floats();
    const bAt = aAt + 4 * aRows * lda;
    const cAt = bAt + 4 * bRows * ldb;
    const end = cAt + 4 * M * ldc;
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
    const mem = new Float32Array(memory.buffer);
    for (let r = 0; r < aRows; r++) mem.set(aData.subarray(r * aCols, (r + 1) * aCols), aAt / 4 + r * lda);
    for (let r = 0; r < bRows; r++) mem.set(bData.subarray(r * bCols, (r + 1) * bCols), bAt / 4 + r * ldb);
    mem.fill(Number.NaN, cAt / 4, end / 4); // beyond C's columns (ldc > N) must stay untouched
    if (opts.c0) for (let i = 0; i < M; i++) mem.set(opts.c0.subarray(i * N, (i + 1) * N), cAt / 4 + i * ldc);
    exports.sgemm(transA ? 1 : 0, transB ? 1 : 0, M, N, K, aAt, lda, bAt, ldb, cAt, ldc, opts.c0 ? 1 : 0, scratch);
    const c = new Float32Array(M * N);
    for (let i = 0; i < M; i++) {
      c.set(mem.subarray(cAt / 4 + i * ldc, cAt / 4 + i * ldc + N), i * N);
      for (let j = N; j < ldc; j++) expect(mem[cAt / 4 + i * ldc + j]).toBeNaN();
    }
    const ref = refMatMul(aData, [aRows, aCols], bData, [bRows, bCols], transA, transB);
    return { c, ref: ref.values, scale: Array.from(ref.scale, (v) => Math.max(v, 1e-30)) };
  }

  const forms: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
  it.each([
    ['one micro-tile', 4, 8, 5],
    ['edges in every direction', 131, 37, 21],
    ['past MC and KC', 261, 67, 517],
    ['past NC', 9, 1031, 33],
    ['a single row and column', 1, 1, 300],
  ])('computes op(A)·op(B) for every transpose form: %s', (_, M, N, K) => {
    for (const [ta, tb] of forms) {
      for (const pad of [0, 3]) {
        const { c, ref, scale } = run(M, N, K, ta, tb, { pad });
        expect(maxRelativeError(c, ref, scale), `transA ${ta}, transB ${tb}, pad ${pad}`).toBeLessThan(1e-5);
      }
    }
  });

  it('adds to C when asked, and with K = 0 writes zeros (or leaves C)', () => {
    const [M, N, K] = [37, 45, 300];
    const c0 = randomArray(M * N, 99);
    const { c, ref, scale } = run(M, N, K, false, true, { c0 });
    expect(maxRelativeError(c, Array.from(ref, (v, i) => v + c0[i]), scale.map((s, i) => s + Math.abs(c0[i])))).toBeLessThan(1e-5);
    expect(Array.from(run(3, 5, 0, false, false).c)).toEqual(new Array(15).fill(0));
    expect(Array.from(run(3, 5, 0, true, false, { c0: c0.subarray(0, 15) }).c)).toEqual(Array.from(c0.subarray(0, 15)));
  });

  it('compresses a sparse op(A) by rows (either storage) and sums op(B)\'s rows for C; transposes', () => {
    const [M, K, N] = [37, 53, 21]; // widths that are not multiples of 4
    const dense = randomArray(M * K, 11).map((v, i) => (i % 7 === 0 || i % 11 === 3 ? v : 0));
    dense[5] = Number.NaN; // NaN counts as a nonzero
    const b = randomArray(K * N, 12);
    const base = scratch + 4 * exports.gemm_scratch_floats();
    const need = base + 4 * (2 * M * K + K * N + M * N + 2 * (M + 1) + 2 * M * K) + 1024;
    if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
    const [aAt, atAt] = [base, base + 4 * M * K]; // A as [M, K] and as its transpose [K, M]
    const bAt = atAt + 4 * M * K;
    const cAt = bAt + 4 * K * N;
    const rowptrAt = cAt + 4 * M * N;
    const colsAt = rowptrAt + 4 * (M + 1);
    const valsAt = colsAt + 4 * M * K;
    const mem = new Float32Array(memory.buffer);
    mem.set(dense, aAt / 4);
    exports.transpose(aAt, M, K, atAt);
    for (let i = 0; i < M; i++) for (let p = 0; p < K; p++) expect(Object.is(mem[atAt / 4 + p * M + i], dense[i * K + p])).toBe(true);
    mem.set(b, bAt / 4);
    const expectedNnz = dense.filter((v) => v !== 0).length;
    expect(exports.count_nonzero(0, 0, M, K, aAt, K)).toBe(expectedNnz);
    expect(exports.count_nonzero(1, 0, M, K, atAt, M)).toBe(expectedNnz);
    expect(exports.count_nonzero(0, 3, 9, K, aAt, K)).toBe(dense.slice(3 * K, 9 * K).filter((v) => v !== 0).length);
    for (const [trans, at, ld] of [[0, aAt, K], [1, atAt, M]]) {
      exports.csr_build(trans, M, K, at, ld, rowptrAt, colsAt, valsAt);
      const i32 = new Int32Array(memory.buffer);
      const rowptr = i32.slice(rowptrAt / 4, rowptrAt / 4 + M + 1);
      expect(rowptr[M]).toBe(expectedNnz);
      for (let i = 0; i < M; i++) {
        const cols = Array.from(i32.slice(colsAt / 4 + rowptr[i], colsAt / 4 + rowptr[i + 1]));
        expect(cols, `row ${i}`).toEqual([...Array(K).keys()].filter((p) => dense[i * K + p] !== 0));
      }
      exports.spmm_rows(0, M, N, rowptrAt, colsAt, valsAt, bAt, N, cAt, N);
      const c = new Float32Array(memory.buffer).slice(cAt / 4, cAt / 4 + M * N);
      const ref = refMatMul(dense.map((v) => (Number.isNaN(v) ? 0 : v)), [M, K], b, [K, N], false, false);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          if (i === 0) expect(c[j]).toBeNaN(); // row 0 holds the NaN: it spreads as in a dense product
          else expect(Math.abs(c[i * N + j] - ref.values[i * N + j])).toBeLessThanOrEqual(1e-5 * Math.max(ref.scale[i * N + j], 1e-30));
        }
    }
  });

  it('masks each row\'s k largest values (v ≥ the k-th largest, ties kept) on every kind of row', () => {
    // 2,048 wide: rows with ≥ 512 positives take the sampled threshold
    const F = 2048;
    const rnd = seededRandom(41);
    const rows: [string, Float32Array][] = [
      ['a ReLU row (half zeros)', Float32Array.from({ length: F }, () => Math.max(0, rnd() * 2 - 1))],
      ['signed values', Float32Array.from({ length: F }, () => rnd() * 2 - 1)],
      ['few positives', Float32Array.from({ length: F }, (_, j) => (j % 97 === 0 ? rnd() : -rnd()))],
      ['all zeros', new Float32Array(F)],
      ['ties at the k-th value', Float32Array.from({ length: F }, (_, j) => Math.floor(j / 50))],
      ['a NaN among ReLU values', Float32Array.from({ length: F }, (_, j) => (j === 3 ? Number.NaN : Math.max(0, rnd() * 2 - 1)))],
      // every sampled place (each 16th) large: at k 120 the sample's threshold keeps too few
      ['a sample that misleads', Float32Array.from({ length: F }, (_, j) => (j % 16 === 0 ? 100 + j : rnd()))],
    ];
    const vAt = scratch + 4 * exports.gemm_scratch_floats();
    const outAt = vAt + 4 * F * rows.length;
    if (outAt + 4 * F * rows.length > memory.buffer.byteLength) memory.grow(Math.ceil((outAt + 4 * F * rows.length - memory.buffer.byteLength) / 65536));
    for (const k of [0, 1, 7, 64, 120, 400, F]) {
      const mem = new Float32Array(memory.buffer);
      rows.forEach(([, row], r) => mem.set(row, vAt / 4 + r * F));
      exports.topk_mask_rows(0, rows.length, F, k, vAt, F, outAt, F, scratch);
      rows.forEach(([what, row], r) => {
        const sorted = Array.from(row).filter((x) => !Number.isNaN(x)).sort((x, y) => y - x);
        const kth = k <= 0 ? Infinity : k >= F ? -Infinity : sorted[k - 1];
        const got = Array.from(new Float32Array(memory.buffer, outAt + 4 * r * F, F));
        const want = Array.from(row, (x) => (k >= F || x >= kth ? 1 : 0)); // k ≥ F keeps everything, a NaN too
        expect(got, `${what}, k ${k}`).toEqual(want);
      });
    }
  });
});
