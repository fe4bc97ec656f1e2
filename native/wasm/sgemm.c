/*
 * saeboard's SGEMM for WebAssembly (SIMD128), for installs with neither the native addon nor a
 * prebuilt one: the no-compiler path (wasm+js) ran its large products on tfjs-backend-wasm's
 * XNNPACK at ~30 GFLOPS a thread, whose transposed forms needed explicit transposes first. This
 * one takes every transpose form in its packing and runs at ~40 GFLOPS a thread (Zen 4), and two
 * threads on one shared memory do not slow each other (XNNPACK's lost ~25 %).
 *
 * Built by scripts/build-wasm.mjs (clang --target=wasm32 -msimd128; the .wasm is committed, as a
 * user without a compiler is who needs it). The GotoBLAS layout, as native/gemm/own_sgemm.c: per
 * NC columns and KC-deep slice the B block is packed into NR-wide panels, per MC rows the A block
 * into MR-tall panels, and a 4×8 micro-kernel (8 accumulators: more spill in V8's 16 registers,
 * measured 4×8 41, 6×8 22, 4×12 25 GFLOPS) runs over them. wasm has no fused multiply-add, so a
 * product is a mul and an add, rounded twice, as in XNNPACK's wasm kernels.
 *
 * No static data and no stack frames: the memory is shared by every thread's instance, each
 * passing its own scratch (gemm_scratch_floats() floats).
 *
 * Sparse operands (an SAE's top-k or trained activations: a few nonzeros per row) take
 * csr_build + spmm_rows instead: the sparse operand's nonzeros gathered once, then each row of
 * the product a sum of the dense operand's rows they pick, N lanes at a time (the work of nnz·N
 * multiply-adds, not M·N·K); a sparse right operand through Cᵀ = op(B)ᵀ·op(A)ᵀ and transpose.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define MR 4
#define NR 8
#define KC 256
#define MC 128 /* multiple of MR */
#define NC 1024 /* multiple of NR */

__attribute__((export_name("gemm_scratch_floats"))) int gemm_scratch_floats(void) { return MC * KC + NC * KC + MR * NR; }

/* c[MR×NR] (row stride ldc) = a-panel · b-panel (+ c when accumulate) */
static void kernel(int kc, const float *restrict a, const float *restrict b, float *c, int ldc, int accumulate) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int p = 0; p < kc; p++) {
    const v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    const v128_t a0 = wasm_v128_load32_splat(a), a1 = wasm_v128_load32_splat(a + 1);
    const v128_t a2 = wasm_v128_load32_splat(a + 2), a3 = wasm_v128_load32_splat(a + 3);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a0, b1));
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a1, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, b1));
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a2, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a2, b1));
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a3, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a3, b1));
    a += MR;
    b += NR;
  }
  float *r0 = c, *r1 = c + ldc, *r2 = c + 2 * ldc, *r3 = c + 3 * ldc;
  if (accumulate) {
    c00 = wasm_f32x4_add(c00, wasm_v128_load(r0)), c01 = wasm_f32x4_add(c01, wasm_v128_load(r0 + 4));
    c10 = wasm_f32x4_add(c10, wasm_v128_load(r1)), c11 = wasm_f32x4_add(c11, wasm_v128_load(r1 + 4));
    c20 = wasm_f32x4_add(c20, wasm_v128_load(r2)), c21 = wasm_f32x4_add(c21, wasm_v128_load(r2 + 4));
    c30 = wasm_f32x4_add(c30, wasm_v128_load(r3)), c31 = wasm_f32x4_add(c31, wasm_v128_load(r3 + 4));
  }
  wasm_v128_store(r0, c00), wasm_v128_store(r0 + 4, c01);
  wasm_v128_store(r1, c10), wasm_v128_store(r1 + 4, c11);
  wasm_v128_store(r2, c20), wasm_v128_store(r2 + 4, c21);
  wasm_v128_store(r3, c30), wasm_v128_store(r3 + 4, c31);
}

/*
 * Packs n (≤ W) lines of a kc-deep slice into a W-wide panel dst[p·W + i] (zeros past n).
 * along_k: line i is contiguous along k (src[i·ld + p]); otherwise the lines sit side by side
 * (src[p·ld + i]).
 */
static void pack_panel(const float *src, int ld, int n, int kc, int W, int along_k, float *dst) {
  if (!along_k && n == W) {
    for (int p = 0; p < kc; p++)
      for (int i = 0; i < W; i += 4) wasm_v128_store(dst + p * W + i, wasm_v128_load(src + p * ld + i));
    return;
  }
  if (along_k && n == W && W % 4 == 0) {
    /* 4×4 transposes: four lines' next four k values into four k rows of the panel */
    int p = 0;
    for (; p + 4 <= kc; p += 4)
      for (int i = 0; i < W; i += 4) {
        const v128_t x0 = wasm_v128_load(src + (i + 0) * ld + p), x1 = wasm_v128_load(src + (i + 1) * ld + p);
        const v128_t x2 = wasm_v128_load(src + (i + 2) * ld + p), x3 = wasm_v128_load(src + (i + 3) * ld + p);
        const v128_t t0 = wasm_i32x4_shuffle(x0, x1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(x2, x3, 0, 4, 1, 5);
        const v128_t t2 = wasm_i32x4_shuffle(x0, x1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(x2, x3, 2, 6, 3, 7);
        wasm_v128_store(dst + (p + 0) * W + i, wasm_i64x2_shuffle(t0, t1, 0, 2));
        wasm_v128_store(dst + (p + 1) * W + i, wasm_i64x2_shuffle(t0, t1, 1, 3));
        wasm_v128_store(dst + (p + 2) * W + i, wasm_i64x2_shuffle(t2, t3, 0, 2));
        wasm_v128_store(dst + (p + 3) * W + i, wasm_i64x2_shuffle(t2, t3, 1, 3));
      }
    for (; p < kc; p++)
      for (int i = 0; i < W; i++) dst[p * W + i] = src[i * ld + p];
    return;
  }
  for (int p = 0; p < kc; p++)
    for (int i = 0; i < W; i++) dst[p * W + i] = i < n ? (along_k ? src[i * ld + p] : src[p * ld + i]) : 0.0f;
}

/*
 * C[M×N] = op(A)·op(B), row-major with leading dimensions lda, ldb, ldc (+ C when accumulate).
 * op(A) is [M, K]: A[i·lda + p], or A[p·lda + i] when transA; op(B) is [K, N]: B[p·ldb + j], or
 * B[j·ldb + p] when transB.
 */
__attribute__((export_name("sgemm"))) void sgemm(int transA, int transB, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                                                 float *C, int ldc, int accumulate, float *scratch) {
  float *ap = scratch, *bp = scratch + MC * KC, *tile = bp + NC * KC;
  if (K <= 0) {
    if (!accumulate)
      for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) C[i * ldc + j] = 0.0f;
    return;
  }
  for (int jc = 0; jc < N; jc += NC) {
    const int nc = N - jc < NC ? N - jc : NC;
    for (int pc = 0; pc < K; pc += KC) {
      const int kc = K - pc < KC ? K - pc : KC;
      const int acc = accumulate || pc > 0;
      for (int jr = 0; jr < nc; jr += NR) {
        const int nr = nc - jr < NR ? nc - jr : NR;
        const float *src = transB ? B + (jc + jr) * ldb + pc : B + pc * ldb + jc + jr;
        pack_panel(src, ldb, nr, kc, NR, transB, bp + jr * kc);
      }
      for (int ic = 0; ic < M; ic += MC) {
        const int mc = M - ic < MC ? M - ic : MC;
        for (int ir = 0; ir < mc; ir += MR) {
          const int mr = mc - ir < MR ? mc - ir : MR;
          const float *src = transA ? A + pc * lda + ic + ir : A + (ic + ir) * lda + pc;
          pack_panel(src, lda, mr, kc, MR, !transA, ap + ir * kc);
        }
        for (int jr = 0; jr < nc; jr += NR) {
          const int nr = nc - jr < NR ? nc - jr : NR;
          for (int ir = 0; ir < mc; ir += MR) {
            const int mr = mc - ir < MR ? mc - ir : MR;
            float *c = C + (ic + ir) * ldc + jc + jr;
            if (mr == MR && nr == NR) {
              kernel(kc, ap + ir * kc, bp + jr * kc, c, ldc, acc);
            } else { /* an edge tile: the full tile aside, then what lies inside C */
              kernel(kc, ap + ir * kc, bp + jr * kc, tile, NR, 0);
              for (int i = 0; i < mr; i++)
                for (int j = 0; j < nr; j++) c[i * ldc + j] = acc ? c[i * ldc + j] + tile[i * NR + j] : tile[i * NR + j];
            }
          }
        }
      }
    }
  }
}

/* ---------------------------------------------------------------------------------------- */
/* sparse op(A): compressed rows, then C's rows as sums of op(B)'s rows                      */

/* Nonzeros in rows × width floats at x (row stride ld), four at a time. */
static int count_block(const float *x, int rows, int width, int ld) {
  int n = 0;
  const v128_t zero = wasm_f32x4_splat(0.0f);
  for (int r = 0; r < rows; r++) {
    const float *row = x + r * ld;
    int j = 0;
    for (; j + 4 <= width; j += 4) n += __builtin_popcount(wasm_i32x4_bitmask(wasm_f32x4_ne(wasm_v128_load(row + j), zero)));
    for (; j < width; j++) n += row[j] != 0.0f;
  }
  return n;
}

/* Nonzeros of op(A)'s rows r0..r1 (op(A)[i][p] = A[i·lda + p], or A[p·lda + i] when transA). */
__attribute__((export_name("count_nonzero"))) int count_nonzero(int transA, int r0, int r1, int K, const float *A, int lda) {
  return transA ? count_block(A + r0, K, r1 - r0, lda) : count_block(A + r0 * lda, r1 - r0, K, lda);
}

/*
 * Calls visit(i, p, v) for every nonzero of the rows × width block at x in storage order, four
 * lanes at a time (an all-zero quad, most of a sparse operand, costs one compare).
 */
#define FOR_NONZERO(x, rows, width, ld, BODY)                                                   \
  for (int r_ = 0; r_ < (rows); r_++) {                                                         \
    const float *row_ = (x) + r_ * (ld);                                                        \
    for (int j_ = 0; j_ < (width); j_ += 4) {                                                   \
      if (j_ + 4 <= (width) && !wasm_v128_any_true(wasm_f32x4_ne(wasm_v128_load(row_ + j_), wasm_f32x4_splat(0.0f)))) continue; \
      for (int q_ = j_; q_ < j_ + 4 && q_ < (width); q_++) {                                    \
        const float v_ = row_[q_];                                                              \
        if (v_ != 0.0f) { const int r = r_, q = q_; const float v = v_; BODY; }                 \
      }                                                                                         \
    }                                                                                           \
  }

/*
 * op(A) [M×K] as compressed rows: rowptr[M + 1], and per row its nonzeros' columns and values in
 * ascending column order. rowptr doubles as the fill cursor (shifted back at the end).
 */
__attribute__((export_name("csr_build"))) void csr_build(int transA, int M, int K, const float *A, int lda, int *rowptr, int *cols, float *vals) {
  for (int i = 0; i <= M; i++) rowptr[i] = 0;
  if (!transA) {
    /* rows in storage order: fill straight away */
    int n = 0;
    for (int i = 0; i < M; i++) {
      FOR_NONZERO(A + i * lda, 1, K, lda, (cols[n] = q, vals[n] = v, n++, (void)r));
      rowptr[i + 1] = n;
    }
    return;
  }
  /* op(A)'s row i is A's column i: count per column, prefix-sum, then fill in p order */
  FOR_NONZERO(A, K, M, lda, (rowptr[q + 1]++, (void)r, (void)v));
  for (int i = 0; i < M; i++) rowptr[i + 1] += rowptr[i];
  FOR_NONZERO(A, K, M, lda, ({ const int at = rowptr[q]++; cols[at] = r, vals[at] = v; }));
  for (int i = M; i > 0; i--) rowptr[i] = rowptr[i - 1];
  rowptr[0] = 0;
}

/* dst [cols×rows] = srcᵀ, src [rows×cols] row-major, in 8×8 tiles. */
__attribute__((export_name("transpose"))) void transpose(const float *src, int rows, int cols, float *dst) {
  for (int i0 = 0; i0 < rows; i0 += 8)
    for (int j0 = 0; j0 < cols; j0 += 8)
      for (int i = i0; i < i0 + 8 && i < rows; i++)
        for (int j = j0; j < j0 + 8 && j < cols; j++) dst[j * rows + i] = src[i * cols + j];
}

/* C rows r0..r1 [×N] = Σ over row i's nonzeros (p, v) of v · op(B)[p][:], op(B) = B [K×N] (ldb). */
__attribute__((export_name("spmm_rows"))) void spmm_rows(int r0, int r1, int N, const int *rowptr, const int *cols, const float *vals, const float *B,
                                                         int ldb, float *C, int ldc) {
  for (int i = r0; i < r1; i++) {
    float *c = C + i * ldc;
    int j = 0;
    for (; j + 4 <= N; j += 4) wasm_v128_store(c + j, wasm_f32x4_splat(0.0f));
    for (; j < N; j++) c[j] = 0.0f;
    for (int e = rowptr[i]; e < rowptr[i + 1]; e++) {
      const float *b = B + cols[e] * ldb;
      const v128_t v = wasm_f32x4_splat(vals[e]);
      j = 0;
      for (; j + 8 <= N; j += 8) {
        wasm_v128_store(c + j, wasm_f32x4_add(wasm_v128_load(c + j), wasm_f32x4_mul(v, wasm_v128_load(b + j))));
        wasm_v128_store(c + j + 4, wasm_f32x4_add(wasm_v128_load(c + j + 4), wasm_f32x4_mul(v, wasm_v128_load(b + j + 4))));
      }
      for (; j < N; j++) c[j] += vals[e] * b[j];
    }
  }
}

/*
 * C rows r0..r1 [×N] = (A·Bᵀ) ⊙ S on S's nonzeros, zeros elsewhere: A [·×K] (lda), B [N×K] (ldb),
 * S as compressed rows (a top-k mask: the SAE backward's dPost needs only the entries it keeps).
 */
__attribute__((export_name("sddmm_rows"))) void sddmm_rows(int r0, int r1, int N, int K, const int *rowptr, const int *cols, const float *vals,
                                                           const float *A, int lda, const float *B, int ldb, float *C, int ldc) {
  for (int i = r0; i < r1; i++) {
    float *c = C + i * ldc;
    int j = 0;
    for (; j + 4 <= N; j += 4) wasm_v128_store(c + j, wasm_f32x4_splat(0.0f));
    for (; j < N; j++) c[j] = 0.0f;
    const float *a = A + i * lda;
    for (int e = rowptr[i]; e < rowptr[i + 1]; e++) {
      const float *b = B + cols[e] * ldb;
      v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
      int p = 0;
      for (; p + 8 <= K; p += 8) {
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + p), wasm_v128_load(b + p)));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + p + 4), wasm_v128_load(b + p + 4)));
      }
      const v128_t s = wasm_f32x4_add(s0, s1);
      float dot = (wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1)) + (wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3));
      for (; p < K; p++) dot += a[p] * b[p];
      c[cols[e]] = vals[e] * dot;
    }
  }
}

/*
 * The value that sorts to position target of x[0..n) in ascending order (x is reordered):
 * quickselect with three-way partitions around a median of three, so a run of equal values is one
 * step and a NaN cannot stall it.
 */
static float select_nth(float *x, int n, int target) {
  if (target < 0) target = 0; /* never met by the callers; a loop that cannot end is worse */
  if (target >= n) target = n - 1;
  int lo = 0, hi = n - 1;
  for (;;) {
    const float a = x[lo], b = x[lo + (hi - lo) / 2], c = x[hi];
    const float pivot = (a < b) ? ((b < c) ? b : (a < c ? c : a)) : ((a < c) ? a : (b < c ? c : b));
    /* [lo, lt) < pivot, [lt, gt] equal to it (or unordered with it), (gt, hi] > pivot */
    int lt = lo, j = lo, gt = hi;
    while (j <= gt) {
      const float v = x[j];
      if (v < pivot) x[j++] = x[lt], x[lt++] = v;
      else if (v > pivot) x[j] = x[gt], x[gt--] = v;
      else j++;
    }
    if (target < lt) hi = lt - 1;
    else if (target > gt) lo = gt + 1;
    else return pivot;
  }
}

#define TOPK_SAMPLE 128

/*
 * Rows r0..r1 of the top-k mask of V [·×F] (ldv): out = 1 where v ≥ the row's k-th largest value,
 * else 0 (ties at it keep a few more, as tfjs' topk-then-compare). The k-th largest is selected
 * among the row's positive values when there are at least k (a ReLU's row, half zeros), and
 * among those at or above a threshold from a sample of them when that leaves at least k: the
 * compactions are branch-free, the quickselect then sorts out a few hundred values. scratch
 * holds F + TOPK_SAMPLE floats.
 */
/* The values the row's k-th largest is selected among, copied to x: its positive ones when there
   are at least k (branch-free), else all F. Returns how many. */
static int topk_candidates(const float *v, int F, int k, float *x) {
  int n = 0;
  for (int j = 0; j < F; j++) x[n] = v[j], n += v[j] > 0.0f;
  if (n >= k) return n;
  for (int j = 0; j < F; j++) x[j] = v[j];
  return F;
}

__attribute__((export_name("topk_mask_rows"))) void topk_mask_rows(int r0, int r1, int F, int k, const float *V, int ldv, float *out, int ldo,
                                                                   float *scratch) {
  float *sample = scratch + F;
  for (int i = r0; i < r1; i++) {
    const float *v = V + i * ldv;
    float *o = out + i * ldo;
    if (k <= 0 || k >= F) {
      for (int j = 0; j < F; j++) o[j] = k > 0 ? 1.0f : 0.0f;
      continue;
    }
    int n = topk_candidates(v, F, k, scratch);
    if (n >= 4 * TOPK_SAMPLE && k * 8 <= n) {
      /* a threshold expected to keep ~4k of the n values: the sample's (4k/n)-quantile from the top */
      for (int s = 0; s < TOPK_SAMPLE; s++) sample[s] = scratch[(int)((int64_t)s * n / TOPK_SAMPLE)];
      const int rank = (int)((int64_t)4 * k * TOPK_SAMPLE / n); /* 0..TOPK_SAMPLE/2 as 8k ≤ n */
      const float t = select_nth(sample, TOPK_SAMPLE, TOPK_SAMPLE - 1 - rank);
      int m = 0;
      for (int j = 0; j < n; j++) {
        const float x = scratch[j];
        scratch[m] = x, m += x >= t;
      }
      /* fewer than k kept: the sample misled, start over from the row */
      n = m >= k ? m : topk_candidates(v, F, k, scratch);
    }
    const float kth = select_nth(scratch, n, n - k);
    for (int j = 0; j < F; j++) o[j] = v[j] >= kth ? 1.0f : 0.0f;
  }
}
