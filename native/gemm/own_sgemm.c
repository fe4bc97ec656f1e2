/*
 * saeboard's own SGEMM, for builds without OpenBLAS (SAEBOARD_BLAS=none, or libopenblas missing
 * when the addon is built): so an install with a C compiler but no libopenblas-dev still gets
 * GEMMs near the machine's speed instead of the pure-JS path (issue 20: goal ≤ 2x OpenBLAS time).
 *
 * Built with SAEBOARD_OWN_SGEMM it provides the few OpenBLAS symbols the addons use (cblas_sgemm
 * and openblas_*), with hidden visibility, so the kernels' sources are the same for both builds.
 * saeboard_own_sgemm is always there, and saeboard_gemm_use_own() says whether a call should take it
 * instead of OpenBLAS (SAEBOARD_GEMM=auto|own|openblas; see there).
 *
 * The GEMM is the BLIS/GotoBLAS layout: C is cut into NC-column blocks; per KC-deep slice of K
 * the B block is packed into NR-wide panels (L3), per MC rows the A block into MR-tall panels
 * (L2); a register-blocked MR×NR micro-kernel runs over the panels with the B panel in L1.
 * Micro-kernels: AVX-512 (12×32, 24 zmm accumulators), AVX2+FMA (6×16, 12 ymm accumulators) and
 * plain C (4×8, auto-vectorised), chosen at run time by what the CPU supports (no -march=native,
 * so a build runs on any x86-64 and uses what the machine has). Threads: the larger of M and N is
 * split over the cores (pthreads), each thread packing its own panels.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define OWN_X86 1
#endif

#define HIDDEN __attribute__((visibility("hidden")))

enum { RowMajor = 101, ColMajor = 102, NoTrans = 111, Trans = 112 };

#define KC 512
#define MC 288 /* a multiple of every MR (12, 6, 4) */
#define NC 3072 /* a multiple of every NR (32, 16, 8) */
#define MAXMR 12
#define MAXNR 32

typedef void (*ukernel_fn)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, float alpha, float beta);

/* ---------------------------------------------------------------------------------------- */
/* micro-kernels: C[MR×NR] = alpha · Ap·Bp + beta · C (beta == 0: C is not read)             */

static void kernel_generic(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, float alpha, float beta) {
  float acc[4][8] = {{0}};
  for (int64_t p = 0; p < kc; p++) {
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 8; j++) acc[i][j] += a[i] * b[j];
    a += 4;
    b += 8;
  }
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 8; j++) c[i * ldc + j] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * c[i * ldc + j];
}

#ifdef OWN_X86
__attribute__((target("avx2,fma"))) static void kernel_avx2(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, float alpha,
                                                           float beta) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00,
         c50 = c00, c51 = c00;
  for (int64_t p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 ai;
#define ROW2(i)                                 \
  ai = _mm256_broadcast_ss(a + i);              \
  c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);   \
  c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);
    ROW2(0) ROW2(1) ROW2(2) ROW2(3) ROW2(4) ROW2(5)
#undef ROW2
    a += 6;
    b += 16;
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#define STORE2(i, h, r)                                                                             \
  {                                                                                                 \
    float *cp = c + (i) * ldc + (h) * 8;                                                            \
    __m256 v = _mm256_mul_ps(va, r);                                                                \
    if (beta != 0.0f) v = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cp), v);                             \
    _mm256_storeu_ps(cp, v);                                                                        \
  }
  STORE2(0, 0, c00) STORE2(0, 1, c01) STORE2(1, 0, c10) STORE2(1, 1, c11) STORE2(2, 0, c20) STORE2(2, 1, c21)
  STORE2(3, 0, c30) STORE2(3, 1, c31) STORE2(4, 0, c40) STORE2(4, 1, c41) STORE2(5, 0, c50) STORE2(5, 1, c51)
#undef STORE2
}

__attribute__((target("avx512f"))) static void kernel_avx512(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, float alpha,
                                                            float beta) {
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00,
         c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00, c80 = c00, c81 = c00, c90 = c00, c91 = c00, cA0 = c00,
         cA1 = c00, cB0 = c00, cB1 = c00;
  for (int64_t p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    __m512 ai;
#define ROW(i, n)                               \
  ai = _mm512_set1_ps(a[n]);                    \
  c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);   \
  c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);
    ROW(0, 0) ROW(1, 1) ROW(2, 2) ROW(3, 3) ROW(4, 4) ROW(5, 5) ROW(6, 6) ROW(7, 7) ROW(8, 8) ROW(9, 9) ROW(A, 10) ROW(B, 11)
#undef ROW
    a += 12;
    b += 32;
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#define STORE(i, n)                                                                   \
  {                                                                                   \
    float *cp = c + (n) * ldc;                                                        \
    __m512 v0 = _mm512_mul_ps(va, c##i##0), v1 = _mm512_mul_ps(va, c##i##1);          \
    if (beta != 0.0f) {                                                               \
      v0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cp), v0);                              \
      v1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cp + 16), v1);                         \
    }                                                                                 \
    _mm512_storeu_ps(cp, v0);                                                         \
    _mm512_storeu_ps(cp + 16, v1);                                                    \
  }
  STORE(0, 0) STORE(1, 1) STORE(2, 2) STORE(3, 3) STORE(4, 4) STORE(5, 5) STORE(6, 6) STORE(7, 7) STORE(8, 8) STORE(9, 9) STORE(A, 10)
  STORE(B, 11)
#undef STORE
}
#endif

typedef struct {
  ukernel_fn fn;
  int mr, nr;
  const char *name;
} kernel_t;

static kernel_t g_kernel;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_threads = 0;

static void pick_kernel(void) {
  g_kernel = (kernel_t){kernel_generic, 4, 8, "generic"};
#ifdef OWN_X86
  __builtin_cpu_init();
  const char *force = getenv("SAEBOARD_SGEMM_KERNEL"); /* testing: generic | avx2 | avx512 */
  int want512 = !force || strcmp(force, "avx512") == 0, want2 = !force || strcmp(force, "avx2") == 0 || want512;
  if (want512 && __builtin_cpu_supports("avx512f")) g_kernel = (kernel_t){kernel_avx512, 12, 32, "avx512"};
  else if (want2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) g_kernel = (kernel_t){kernel_avx2, 6, 16, "avx2"};
#endif
  if (g_threads <= 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    g_threads = n > 0 ? (int)(n > 64 ? 64 : n) : 1;
  }
}

/* ---------------------------------------------------------------------------------------- */
/* packing (zero-padded to full panels)                                                      */

typedef struct {
  int transA, transB;
  int64_t M, N, K;
  float alpha, beta;
  const float *A, *B;
  int64_t lda, ldb, ldc;
  float *C;
} gemm_args;

/* dst[p·ld + r] = src[r·lds + p] for r < R, p < kc: R rows of a row-major matrix into p-major
   panel rows. By 4×4 SSE transposes (x86-64 baseline; the rows past a multiple of 4 one by one)
   where a scalar loop would write with a stride of ld floats: the no-transpose A and the
   transposed B, whose packing was a fifth of the time of a 472-row or 512-column product (the
   GPT's, the SAE step's ∂F). */
static void pack_transposed(const float *src, int64_t lds, int R, int64_t kc, float *dst, int64_t ld) {
  int64_t p = 0;
#ifdef OWN_X86
  const int R4 = R / 4 * 4;
  for (; p + 4 <= kc; p += 4) {
    for (int r = R4; r < R; r++)
      for (int q = 0; q < 4; q++) dst[(p + q) * ld + r] = src[r * lds + p + q];
    for (int r = 0; r < R4; r += 4) {
      __m128 r0 = _mm_loadu_ps(src + (r + 0) * lds + p), r1 = _mm_loadu_ps(src + (r + 1) * lds + p);
      __m128 r2 = _mm_loadu_ps(src + (r + 2) * lds + p), r3 = _mm_loadu_ps(src + (r + 3) * lds + p);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      _mm_storeu_ps(dst + (p + 0) * ld + r, r0);
      _mm_storeu_ps(dst + (p + 1) * ld + r, r1);
      _mm_storeu_ps(dst + (p + 2) * ld + r, r2);
      _mm_storeu_ps(dst + (p + 3) * ld + r, r3);
    }
  }
#endif
  for (; p < kc; p++)
    for (int r = 0; r < R; r++) dst[p * ld + r] = src[r * lds + p];
}

/* dst[(c/W)·W·kc + p·W + c%W] = src[p·lds + c] for c < n, p < kc, zero-padded to whole panels:
   kc rows of n contiguous floats into ceil(n/W) W-wide p-major panels (the transposed A, the
   untransposed B). Row by row, so each source row is read once (panel by panel, every row would
   be revisited n/W times a part of a cache line at a time). */
static void pack_rows(const float *src, int64_t lds, int64_t n, int64_t kc, int W, float *dst) {
  const int64_t full = n / W * W;
  for (int64_t p = 0; p < kc; p++) {
    const float *row = src + p * lds;
    for (int64_t c = 0; c < full; c += W) memcpy(dst + c * kc + p * W, row + c, (size_t)W * sizeof(float));
    if (full < n) {
      float *d = dst + full * kc + p * W;
      int64_t c = 0;
      for (; c < n - full; c++) d[c] = row[full + c];
      for (; c < W; c++) d[c] = 0.0f;
    }
  }
}

/* dst[(r/W)·W·kc + p·W + r%W] = src[r·lds + p] for r < n, p < kc, zero-padded to whole panels:
   n rows of a row-major matrix into ceil(n/W) W-wide p-major panels, transposed
   (pack_transposed; the untransposed A, the transposed B) */
static void pack_cols(const float *src, int64_t lds, int64_t n, int64_t kc, int W, float *dst) {
  for (int64_t r0 = 0; r0 < n; r0 += W) {
    const int R = n - r0 < W ? (int)(n - r0) : W;
    float *panel = dst + r0 * kc;
    pack_transposed(src + r0 * lds, lds, R, kc, panel, W);
    for (int64_t p = 0; p < kc && R < W; p++)
      for (int r = R; r < W; r++) panel[p * W + r] = 0.0f;
  }
}

/* Ap: ceil(mc/MR) panels, each kc × MR (p-major): Ap[p·MR + i] = op(A)[i0 + i, p0 + p] */
static void pack_a(const gemm_args *g, int64_t i0, int64_t mc, int64_t p0, int64_t kc, int MR, float *ap) {
  if (g->transA) pack_rows(g->A + p0 * g->lda + i0, g->lda, mc, kc, MR, ap); /* op(A)[i, p] = A[p·lda + i] */
  else pack_cols(g->A + i0 * g->lda + p0, g->lda, mc, kc, MR, ap);           /* A[i·lda + p] */
}

/* Bp: ceil(nc/NR) panels, each kc × NR: Bp[p·NR + j] = op(B)[p0 + p, j0 + j] */
static void pack_b(const gemm_args *g, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int NR, float *bp) {
  if (g->transB) pack_cols(g->B + j0 * g->ldb + p0, g->ldb, nc, kc, NR, bp); /* B[j·ldb + p] */
  else pack_rows(g->B + p0 * g->ldb + j0, g->ldb, nc, kc, NR, bp);           /* B[p·ldb + j] */
}

/* ---------------------------------------------------------------------------------------- */
/* the blocked loops over C[m0:m1, n0:n1]                                                   */

static void gemm_block(const gemm_args *g, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *ap, float *bp) {
  const kernel_t k = g_kernel;
  const int MR = k.mr, NR = k.nr;
  float tile[MAXMR * MAXNR];
  for (int64_t jc = n0; jc < n1; jc += NC) {
    const int64_t nc = n1 - jc < NC ? n1 - jc : NC;
    for (int64_t pc = 0; pc < g->K; pc += KC) {
      const int64_t kc = g->K - pc < KC ? g->K - pc : KC;
      const float beta = pc == 0 ? g->beta : 1.0f;
      pack_b(g, pc, kc, jc, nc, NR, bp);
      for (int64_t ic = m0; ic < m1; ic += MC) {
        const int64_t mc = m1 - ic < MC ? m1 - ic : MC;
        pack_a(g, ic, mc, pc, kc, MR, ap);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t nr = nc - jr < NR ? nc - jr : NR;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int64_t mr = mc - ir < MR ? mc - ir : MR;
            float *c = g->C + (ic + ir) * g->ldc + jc + jr;
            if (mr == MR && nr == NR) {
              k.fn(kc, ap + ir * kc, bp + jr * kc, c, g->ldc, g->alpha, beta);
            } else { /* an edge tile: compute the full tile aside, merge what is inside C */
              k.fn(kc, ap + ir * kc, bp + jr * kc, tile, NR, 1.0f, 0.0f);
              for (int64_t i = 0; i < mr; i++)
                for (int64_t j = 0; j < nr; j++)
                  c[i * g->ldc + j] = beta == 0.0f ? g->alpha * tile[i * NR + j] : g->alpha * tile[i * NR + j] + beta * c[i * g->ldc + j];
            }
          }
        }
      }
    }
  }
}

typedef struct {
  const gemm_args *g;
  int64_t m0, m1, n0, n1;
  int slot; /* pooled panel buffers to use, or -1: allocate */
} part_t;

/* Panel buffers kept between calls, one pair per part, so a GEMM does not page in megabytes of
   fresh memory every call; guarded by a lock (a call that finds it taken allocates its own). */
static pthread_mutex_t g_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  float *ap, *bp;
  size_t ap_n, bp_n;
} g_pool[64];

static float *pooled(float **buf, size_t *have, size_t need) {
  if (*have >= need) return *buf;
  free(*buf);
  *buf = aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64);
  *have = *buf ? need : 0;
  return *buf;
}

/* the plain triple loop, for when no panel memory can be had: slow, but the result is right */
static void gemm_naive(const gemm_args *g, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  for (int64_t i = m0; i < m1; i++)
    for (int64_t j = n0; j < n1; j++) {
      float acc = 0.0f;
      for (int64_t p = 0; p < g->K; p++)
        acc += (g->transA ? g->A[p * g->lda + i] : g->A[i * g->lda + p]) * (g->transB ? g->B[j * g->ldb + p] : g->B[p * g->ldb + j]);
      float *c = g->C + i * g->ldc + j;
      *c = g->beta == 0.0f ? g->alpha * acc : g->alpha * acc + g->beta * *c;
    }
}

static void *run_part(void *p) {
  part_t *t = (part_t *)p;
  /* panels as large as this part needs (small GEMMs must not pay for megabytes of buffers) */
  const int64_t kc = t->g->K < KC ? t->g->K : KC, mc = t->m1 - t->m0 < MC ? t->m1 - t->m0 : MC, nc = t->n1 - t->n0 < NC ? t->n1 - t->n0 : NC;
  const size_t ap_n = (size_t)((mc + MAXMR) * kc), bp_n = (size_t)((nc + MAXNR) * kc);
  float *ap, *bp;
  if (t->slot >= 0) {
    ap = pooled(&g_pool[t->slot].ap, &g_pool[t->slot].ap_n, ap_n);
    bp = pooled(&g_pool[t->slot].bp, &g_pool[t->slot].bp_n, bp_n);
  } else {
    ap = aligned_alloc(64, (ap_n * sizeof(float) + 63) / 64 * 64);
    bp = aligned_alloc(64, (bp_n * sizeof(float) + 63) / 64 * 64);
  }
  if (ap && bp) gemm_block(t->g, t->m0, t->m1, t->n0, t->n1, ap, bp);
  else gemm_naive(t->g, t->m0, t->m1, t->n0, t->n1);
  if (t->slot < 0) {
    free(ap);
    free(bp);
  }
  return NULL;
}

static void scale_c(const gemm_args *g) {
  for (int64_t i = 0; i < g->M; i++)
    for (int64_t j = 0; j < g->N; j++) g->C[i * g->ldc + j] = g->beta == 0.0f ? 0.0f : g->beta * g->C[i * g->ldc + j];
}

static void gemm_rowmajor(const gemm_args *g) {
  pthread_once(&g_once, pick_kernel);
  if (g->M <= 0 || g->N <= 0) return;
  if (g->K <= 0 || g->alpha == 0.0f) {
    scale_c(g);
    return;
  }
  int T = g_threads;
  const double work = (double)g->M * g->N * g->K;
  if (work < 4e6) T = 1; /* thread start-up would cost more than it saves */
  /* split the larger dimension into T parts aligned to the micro-tile */
  const int split_m = g->M >= g->N;
  const int64_t len = split_m ? g->M : g->N, align = split_m ? g_kernel.mr : g_kernel.nr;
  if (len / align < T) T = (int)(len / align) > 0 ? (int)(len / align) : 1;
  part_t parts[64];
  pthread_t th[64];
  int started[64] = {0};
  const int pool = pthread_mutex_trylock(&g_pool_lock) == 0;
  for (int t = 0; t < T; t++) {
    int64_t a = len * t / T / align * align, b = t == T - 1 ? len : len * (t + 1) / T / align * align;
    parts[t] = split_m ? (part_t){g, a, b, 0, g->N, pool ? t : -1} : (part_t){g, 0, g->M, a, b, pool ? t : -1};
  }
  for (int t = 1; t < T; t++) started[t] = pthread_create(&th[t], NULL, run_part, &parts[t]) == 0;
  run_part(&parts[0]);
  for (int t = 1; t < T; t++) {
    if (started[t]) pthread_join(th[t], NULL);
    else run_part(&parts[t]); /* no thread: do it here */
  }
  if (pool) pthread_mutex_unlock(&g_pool_lock);
}

/* ---------------------------------------------------------------------------------------- */
/* entry points: always saeboard_own_*; the OpenBLAS names too in builds without OpenBLAS     */

HIDDEN void saeboard_own_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                               int ldb, float beta, float *C, int ldc) {
  gemm_args g;
  if (order == ColMajor) /* C' = op(B)' op(A)' in row-major terms */
    g = (gemm_args){transB == Trans, transA == Trans, N, M, K, alpha, beta, B, A, ldb, lda, ldc, C};
  else
    g = (gemm_args){transA == Trans, transB == Trans, M, N, K, alpha, beta, A, B, lda, ldb, ldc, C};
  gemm_rowmajor(&g);
}

HIDDEN void saeboard_own_set_threads(int n) {
  pthread_once(&g_once, pick_kernel);
  g_threads = n < 1 ? 1 : (n > 64 ? 64 : n);
}

/* Which GEMM the addons call, read at every call so a bench or doctor can switch between calls:
 * SAEBOARD_GEMM (for the SAE step, SAEBOARD_SAE_GEMM first) = own | openblas | auto (unset).
 * auto takes the own SGEMM where its micro-kernel is a wider vector ISA than OpenBLAS's core:
 * AVX-512 over an AVX2 core is the case that matters, an OPENBLAS_CORETYPE override holding
 * OpenBLAS to an older core (some VM images set Haswell machine-wide) or an OpenBLAS too old to
 * know the CPU. There the own SGEMM takes ~0.55× the time; where both run the same ISA OpenBLAS
 * keeps the calls. A bad value counts as auto here; the loader (src/tensor/kernels/native.ts)
 * refuses it with a one-line error first. */
extern char *openblas_get_corename(void);

static pthread_once_t g_auto_once = PTHREAD_ONCE_INIT;
static int g_auto_own = 0;

/* 3: AVX-512, 2: AVX2 with FMA, 1: anything older or not x86 — of OpenBLAS's core, by its corename */
static int openblas_core_level(const char *core) {
  static const char *avx512[] = {"skylakex", "cooperlake", "sapphirerapids"};
  static const char *avx2[] = {"haswell", "zen", "excavator"};
  for (size_t i = 0; i < sizeof avx512 / sizeof avx512[0]; i++)
    if (core && strcasecmp(core, avx512[i]) == 0) return 3;
  for (size_t i = 0; i < sizeof avx2 / sizeof avx2[0]; i++)
    if (core && strcasecmp(core, avx2[i]) == 0) return 2;
  return 1;
}

static void decide_auto(void) {
  pthread_once(&g_once, pick_kernel);
  const int own_level = strcmp(g_kernel.name, "avx512") == 0 ? 3 : strcmp(g_kernel.name, "avx2") == 0 ? 2 : 1;
  g_auto_own = own_level > openblas_core_level(openblas_get_corename());
}

/* "avx512", "avx2" or "generic": the micro-kernel this CPU gets */
HIDDEN const char *saeboard_own_kernel_name(void) {
  pthread_once(&g_once, pick_kernel);
  return g_kernel.name;
}

HIDDEN int saeboard_gemm_use_own(const char *setting) {
  if (setting && strcmp(setting, "own") == 0) return 1;
  if (setting && strcmp(setting, "openblas") == 0) return 0;
  pthread_once(&g_auto_once, decide_auto);
  return g_auto_own;
}

#ifdef SAEBOARD_OWN_SGEMM
HIDDEN void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                        float beta, float *C, int ldc) {
  saeboard_own_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

HIDDEN void openblas_set_num_threads(int n) { saeboard_own_set_threads(n); }
HIDDEN int openblas_get_num_threads(void) {
  pthread_once(&g_once, pick_kernel);
  return g_threads;
}
HIDDEN int openblas_get_num_procs(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}
HIDDEN char *openblas_get_config(void) {
  static char buf[96];
  pthread_once(&g_once, pick_kernel);
  strcpy(buf, "saeboard own SGEMM (no OpenBLAS) ");
  strcat(buf, g_kernel.name);
  return buf;
}
HIDDEN char *openblas_get_corename(void) {
  static char buf[32];
  pthread_once(&g_once, pick_kernel);
  strcpy(buf, "own-");
  strcat(buf, g_kernel.name);
  return buf;
}
HIDDEN int openblas_get_parallel(void) { return 1; }
#endif
