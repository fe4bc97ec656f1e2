/*
 * saeboard_sae: one fused native training step for the ReLU SAE (standard L1 and p-annealing
 * Lp^p trainers, trainers.md §2 and §5), working in place on tensors that live in the tfjs wasm
 * heap (or any ArrayBuffer): forward, hand-written backward, ConstrainedAdam.
 *
 * It is the same computation as src/sae/trainers/standard.ts (the pure-tfjs reference,
 * which the tests compare it against step by step): six OpenBLAS GEMMs, and every elementwise
 * pass over [B, F] fused into two (bias + ReLU + sparsity statistics; masked gradient + column
 * sums), split over threads. Reductions are accumulated in double.
 *
 * We declare the OpenBLAS symbol we use instead of including cblas.h (Debian's cblas.h is an
 * alternatives link that may point at another BLAS), as native/src/saeboard_native.c does.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
/*
 * Phase timers. SAEBOARD_SAE_PROFILE=1: each step prints the time of its phases to stderr.
 * profile(true) / profile(false) from JS (bench/sae-step --profile): the phases' times are summed
 * per name until profile(false) returns them, with totals per kind: "gemm…" phases are GEMMs,
 * "adam" is the parameter update (projection, clipping, Adam, renormalisation), "center" is the
 * copy x − b_dec, the rest are the fused element-wise passes and reductions.
 */
#define MAX_PHASES 48
static struct {
  const char *name;
  double ms;
} g_phase[MAX_PHASES];
static int g_nphase = 0;
static bool g_prof_on = false;
static void prof_add(const char *name, double ms) {
  for (int i = 0; i < g_nphase; i++)
    if (strcmp(g_phase[i].name, name) == 0) {
      g_phase[i].ms += ms;
      return;
    }
  if (g_nphase < MAX_PHASES) g_phase[g_nphase++] = (typeof(g_phase[0])){name, ms};
}
#define PROFILE_START                                                  \
  const bool prof_print = getenv("SAEBOARD_SAE_PROFILE") != NULL;      \
  const bool prof = prof_print || g_prof_on;                           \
  double t_prev = prof ? now_ms() : 0
#define TICK(name)                                                                    \
  do {                                                                                \
    if (prof) {                                                                       \
      double t_ = now_ms();                                                           \
      if (prof_print) fprintf(stderr, "%-12s %8.1f ms\n", name, t_ - t_prev);         \
      if (g_prof_on) prof_add(name, t_ - t_prev);                                     \
      t_prev = t_;                                                                    \
    }                                                                                 \
  } while (0)

extern void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc);
enum { RowMajor = 101, NoTrans = 111, Trans = 112 };

/* saeboard's own SGEMM (native/gemm/own_sgemm.c), always linked in: SAEBOARD_SAE_GEMM (else
   SAEBOARD_GEMM, which also switches the tfjs matmul kernels) = own | openblas | auto picks it or
   the build's BLAS (auto: the own SGEMM where its kernel is a wider ISA than OpenBLAS's core);
   read at every step so a bench can switch between steps */
extern void saeboard_own_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                               int ldb, float beta, float *C, int ldc);
extern void saeboard_own_set_threads(int n);
extern int saeboard_gemm_use_own(const char *setting);

static bool use_own_gemm(void) {
  const char *v = getenv("SAEBOARD_SAE_GEMM");
  return saeboard_gemm_use_own(v ? v : getenv("SAEBOARD_GEMM")) != 0;
}

/* C [M,N] = op(A) op(B) + beta·C, row-major and dense (every leading dimension follows from the shape) */
static void gemm(int transA, int transB, int64_t M, int64_t N, int64_t K, const float *A, const float *B, float beta, float *C) {
  (use_own_gemm() ? saeboard_own_sgemm : cblas_sgemm)(RowMajor, transA, transB, (int)M, (int)N, (int)K, 1.0f, A, (int)(transA == Trans ? M : K), B, (int)(transB == Trans ? K : N), beta, C,
              (int)N);
}

/* ------------------------------------------------------------------------------------------ */
/* threads                                                                                    */

static int g_threads = 0;

static int n_threads(void) {
  if (g_threads > 0) return g_threads;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  const char *env = getenv("SAEBOARD_THREADS");
  if (env && atoi(env) > 0) n = atoi(env);
  g_threads = n > 0 ? (int)(n > 64 ? 64 : n) : 1;
  return g_threads;
}

typedef void (*range_fn)(void *ctx, int tid, int64_t begin, int64_t end);
typedef struct {
  range_fn fn;
  void *ctx;
  int tid;
  int64_t begin, end;
} job_t;

static void *run_job(void *arg) {
  job_t *j = (job_t *)arg;
  j->fn(j->ctx, j->tid, j->begin, j->end);
  return NULL;
}

/* fn over [0, n) split in contiguous ranges; small loops stay on the calling thread */
static int par_for(int64_t n, int64_t min_per_thread, range_fn fn, void *ctx) {
  int t = n_threads();
  if (n / (min_per_thread > 0 ? min_per_thread : 1) < t) t = (int)(n / (min_per_thread > 0 ? min_per_thread : 1));
  if (t < 1) t = 1;
  if (t == 1) {
    fn(ctx, 0, 0, n);
    return 1;
  }
  pthread_t th[64];
  job_t jobs[64];
  for (int i = 0; i < t; i++) {
    jobs[i] = (job_t){fn, ctx, i, n * i / t, n * (i + 1) / t};
  }
  for (int i = 1; i < t; i++) pthread_create(&th[i], NULL, run_job, &jobs[i]);
  run_job(&jobs[0]);
  for (int i = 1; i < t; i++) pthread_join(th[i], NULL);
  return t;
}

/* ------------------------------------------------------------------------------------------ */
/* scratch memory (kept between steps; JS calls are never concurrent)                          */

static float *scratch = NULL;
static size_t scratch_len = 0;

/* 64-byte aligned: the GEMMs write their outputs here, and a C row that starts mid cache line
   splits every vector store in two (malloc's large blocks start 16 bytes into a page) */
static float *get_scratch(size_t n) {
  if (n > scratch_len) {
    free(scratch);
    scratch = (float *)aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    scratch_len = scratch ? n : 0;
  }
  return scratch;
}

/* ------------------------------------------------------------------------------------------ */
/* the step                                                                                   */

typedef struct {
  int64_t B, D, F;
  const float *x;
  const float *W_enc, *b_enc, *W_dec, *b_dec;
  float *xc, *f, *d, *e; /* scratch: f holds f, then dF → dPre in d */
  double lambda, p, next_p;
  /* per-thread partial reductions */
  double part[64][8];
  float *colf;  /* [threads][F] column sums of f, then of dPre */
  float *cold;  /* [threads][D] column sums */
} step_ctx;

/* xc = x − b_dec */
static void k_center(void *vc, int tid, int64_t b0, int64_t b1) {
  step_ctx *c = (step_ctx *)vc;
  (void)tid;
  for (int64_t b = b0; b < b1; b++)
    for (int64_t j = 0; j < c->D; j++) c->xc[b * c->D + j] = c->x[b * c->D + j] - c->b_dec[j];
}

/* f = ReLU(pre + b_enc) in place; sums: count(f>0), Σf^p, Σf^next_p; column sums of f.
   The p = 1 loop is branch-free (selects), so it vectorises; per-row sums are float, the
   totals double. */
#define HOT __attribute__((target_clones("avx512f", "avx2", "default")))

HOT static void relu_row_p1(float *restrict row, const float *restrict bias, float *restrict col, int64_t F, float *cnt, float *sum) {
  float c = 0, s = 0;
  for (int64_t i = 0; i < F; i++) {
    float v = row[i] + bias[i];
    v = v > 0.0f ? v : 0.0f;
    row[i] = v;
    c += v > 0.0f ? 1.0f : 0.0f;
    s += v;
    col[i] += v;
  }
  *cnt = c;
  *sum = s;
}

/* x^p for x > 0 as 2^(p·log2 x) with polynomial log2 and exp2, branch-free so that a row's loop
   vectorises: libm's powf is a scalar call, and the p-annealing step made up to three per positive
   entry (Σf^p, Σf^next_p, p·f^(p−1)), which cost it ~120 ms over the standard step at B 2048.
   Its error grows with |p·log2 x|: against double pow, at most 1.4e-6 relative for x in
   [1e-8, 1e4] and 5.3e-6 down to 1e-30, for p in [−1, 1] (checked once over a grid; the step's
   penalty, λ and weights match the tfjs reference to 1e-4: test/sae/native.test.ts). x below
   FLT_MIN counts as FLT_MIN and 2^y is clamped to [2^−126, 2^127]. */
static inline float log2_poly(float x) {
  x = x < 1.17549435e-38f ? 1.17549435e-38f : x;
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  float e = (float)((int32_t)(u >> 23) - 127);
  u = (u & 0x007fffffu) | 0x3f800000u; /* mantissa m in [1, 2) */
  float m;
  memcpy(&m, &u, sizeof m);
  const bool big = m > 1.41421356f; /* m in [√½, √2): |t| ≤ 0.172 below */
  m = big ? 0.5f * m : m;
  e = big ? e + 1.0f : e;
  const float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
  /* ln m = 2 atanh t = 2t (1 + t²/3 + t⁴/5 + t⁶/7 + t⁸/9 + …) */
  const float series = 1.0f + t2 * (0.333333333f + t2 * (0.2f + t2 * (0.142857143f + t2 * 0.111111111f)));
  return e + 2.88539008f * t * series; /* 2 / ln 2 */
}

static inline float exp2_poly(float y) {
  y = y < -126.0f ? -126.0f : (y > 127.0f ? 127.0f : y);
  const int32_t n = (int32_t)(y + 127.5f) - 127; /* round to nearest; the sum is positive, so truncation floors */
  const float r = (y - (float)n) * 0.693147181f; /* |r| ≤ ln2 / 2 */
  const float q = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666667f + r * (0.0416666667f + r * (0.00833333333f + r * (0.00138888889f + r * 0.000198412698f))))));
  const uint32_t u = (uint32_t)(n + 127) << 23;
  float scale;
  memcpy(&scale, &u, sizeof scale);
  return q * scale;
}

/* x^p for x > 0 (the callers select x = 1 where the entry is off, so the lanes stay finite) */
static inline float pow_pos(float x, float p) { return exp2_poly(p * log2_poly(x)); }

/* Σ over the positive entries of v^p (and of v^q when q_too), for the L^p penalty */
HOT static void pow_sums_row(const float *restrict row, int64_t F, float p, bool q_too, float q, float *sp, float *sq) {
  float a = 0, n = 0;
  if (q_too) {
#pragma omp simd reduction(+ : a, n)
    for (int64_t i = 0; i < F; i++) {
      const float v = row[i];
      const bool on = v > 0.0f;
      const float lg = log2_poly(on ? v : 1.0f);
      a += on ? exp2_poly(p * lg) : 0.0f;
      n += on ? exp2_poly(q * lg) : 0.0f;
    }
  } else {
#pragma omp simd reduction(+ : a)
    for (int64_t i = 0; i < F; i++) {
      const float v = row[i];
      const bool on = v > 0.0f;
      a += on ? pow_pos(v, p) : 0.0f;
    }
  }
  *sp = a;
  *sq = n;
}

/* adds one row's penalty sums to *lp (Σ v^p; row_sum is Σ v, used when p = 1) and *lnext
   (Σ v^next_p, when next_p ≥ 0), over the row's positive entries: the ReLU step's f, the gated
   step's ReLU(π_gate) */
static void add_lp_sums(const float *row, int64_t F, float row_sum, bool p1, float pf, double next_p, float npf, double *lp, double *lnext) {
  const bool want_next = next_p >= 0;
  float a, n;
  if (p1) {
    *lp += row_sum;
    if (!want_next) return;
    pow_sums_row(row, F, npf, false, 0.0f, &n, &a);
    *lnext += n;
    return;
  }
  pow_sums_row(row, F, pf, want_next, npf, &a, &n);
  *lp += a;
  if (want_next) *lnext += n;
}

static void k_relu_stats(void *vc, int tid, int64_t b0, int64_t b1) {
  step_ctx *c = (step_ctx *)vc;
  const int64_t F = c->F;
  double l0 = 0, lp = 0, lnext = 0;
  float *col = c->colf + (size_t)tid * F;
  memset(col, 0, F * sizeof(float));
  const bool p1 = c->p == 1.0;
  const float pf = (float)c->p, npf = (float)c->next_p;
  for (int64_t b = b0; b < b1; b++) {
    float *row = c->f + b * F;
    float cnt, sum;
    relu_row_p1(row, c->b_enc, col, F, &cnt, &sum);
    l0 += cnt;
    add_lp_sums(row, F, sum, p1, pf, c->next_p, npf, &lp, &lnext);
  }
  c->part[tid][0] = l0;
  c->part[tid][1] = lp;
  c->part[tid][2] = lnext;
}

/* e = x̂ + b_dec − x, r_b = ‖e_b‖; ∂/∂x̂ = e / (max(r, 1e-30)·B) written over e;
   sums: Σ r, Σ e², column sums and sums of squares of e (for the FVE) */
static void k_residual(void *vc, int tid, int64_t b0, int64_t b1) {
  step_ctx *c = (step_ctx *)vc;
  const int64_t D = c->D;
  double rsum = 0, sq = 0;
  float *col = c->cold + (size_t)tid * 2 * D; /* [colsum e | colsum dXHat] */
  memset(col, 0, 2 * D * sizeof(float));
  for (int64_t b = b0; b < b1; b++) {
    float *row = c->e + b * D;
    double s = 0;
    for (int64_t j = 0; j < D; j++) {
      float v = row[j] + c->b_dec[j] - c->x[b * D + j];
      row[j] = v;
      s += (double)v * v;
      col[j] += v;
    }
    sq += s;
    float r = (float)sqrt(s);
    rsum += r;
    float inv = 1.0f / ((r > 1e-30f ? r : 1e-30f) * (float)c->B);
    for (int64_t j = 0; j < D; j++) {
      row[j] *= inv;
      col[D + j] += row[j];
    }
  }
  c->part[tid][3] = rsum;
  c->part[tid][4] = sq;
}

/* the penalty's gradient λ p v^{p−1} / B at v > 0: k1 = λ/B when p = 1, else kp · v^pm1 */
typedef struct {
  bool p1;
  float k1, kp, pm1;
} lp_grad;

static lp_grad lp_grad_of(double lambda, double p, int64_t B) {
  return (lp_grad){p == 1.0, (float)(lambda / (double)B), (float)(lambda * p / (double)B), (float)(p - 1.0)};
}

/* dPre = f > 0 ? dF + λ p f^{p−1} / B : 0 (in place over dF); column sums of dPre */
HOT static void masked_row_p1(const float *restrict fr, float *restrict dr, float *restrict col, int64_t F, float k1) {
  for (int64_t i = 0; i < F; i++) {
    float g = fr[i] > 0.0f ? dr[i] + k1 : 0.0f;
    dr[i] = g;
    col[i] += g;
  }
}

/* the same for p ≠ 1 (f^{p−1} only where f > 0: never inf·0) */
HOT static void masked_row_p(const float *restrict fr, float *restrict dr, float *restrict col, int64_t F, float kp, float pm1) {
  for (int64_t i = 0; i < F; i++) {
    const float fv = fr[i];
    const bool on = fv > 0.0f;
    const float g = on ? dr[i] + kp * pow_pos(on ? fv : 1.0f, pm1) : 0.0f;
    dr[i] = g;
    col[i] += g;
  }
}

static void k_masked_grad(void *vc, int tid, int64_t b0, int64_t b1) {
  step_ctx *c = (step_ctx *)vc;
  const int64_t F = c->F;
  float *col = c->colf + (size_t)tid * F;
  memset(col, 0, F * sizeof(float));
  const lp_grad lg = lp_grad_of(c->lambda, c->p, c->B);
  for (int64_t b = b0; b < b1; b++) {
    const float *fr = c->f + b * F;
    float *dr = c->d + b * F;
    if (lg.p1) {
      masked_row_p1(fr, dr, col, F, lg.k1);
      continue;
    }
    masked_row_p(fr, dr, col, F, lg.kp, lg.pm1);
  }
}

typedef struct {
  float *p, *g, *m, *v;
  float b1, om_b1, b2, om_b2, eps, step, bc2;
  bool b1zero;
} adam_ctx;

/* torch.optim.Adam's update, float32, torch's order of operations */
HOT static void k_adam(void *vc, int tid, int64_t i0, int64_t i1) {
  adam_ctx *a = (adam_ctx *)vc;
  (void)tid;
  for (int64_t i = i0; i < i1; i++) {
    float g = a->g[i];
    float m = a->b1zero ? g : a->m[i] * a->b1 + g * a->om_b1;
    float v = a->v[i] * a->b2 + (g * g) * a->om_b2;
    float denom = sqrtf(v) / a->bc2 + a->eps;
    a->p[i] = a->p[i] - (m / denom) * a->step;
    a->m[i] = m;
    a->v[i] = v;
  }
}

/* Σ_b (x_bd − mean_b x_d)² per d, in double (the FVE's Var(x) and top-k's TotVar) */
static int col_var(const float *x, int64_t B, int64_t D, double *out_D) {
  double *mx = (double *)calloc((size_t)D * 2, sizeof(double));
  if (!mx) return 0;
  for (int64_t b = 0; b < B; b++)
    for (int64_t j = 0; j < D; j++) {
      double v = x[b * D + j];
      mx[j] += v;
      mx[D + j] += v * v;
    }
  for (int64_t j = 0; j < D; j++) out_D[j] = mx[D + j] - mx[j] * mx[j] / (double)B;
  free(mx);
  return 1;
}

typedef struct {
  float *W, *G;
  int64_t D;
  float eps;
  bool normalize;
} proj_ctx;

/* ConstrainedAdam before the step: g_j ← g_j − (g_j·u_j) u_j with u_j = w_j / (‖w_j‖ + eps), or
   w_j itself for rows already unit. eps = 0 is the plain ‖w_j‖ (x + 0.0f == x: bit-identical). */
static void k_project(void *vc, int tid, int64_t r0, int64_t r1) {
  proj_ctx *c = (proj_ctx *)vc;
  (void)tid;
  for (int64_t r = r0; r < r1; r++) {
    float *w = c->W + r * c->D, *g = c->G + r * c->D;
    float n = 1.0f;
    if (c->normalize) {
      double nn = 0;
      for (int64_t j = 0; j < c->D; j++) nn += (double)w[j] * w[j];
      n = (float)sqrt(nn) + c->eps;
    }
    double dot = 0;
    for (int64_t j = 0; j < c->D; j++) dot += (double)g[j] * (w[j] / n);
    float df = (float)dot;
    for (int64_t j = 0; j < c->D; j++) g[j] -= df * (w[j] / n);
  }
}

/* ... and after: w_j ← w_j / (‖w_j‖ + eps) */
static void k_renorm(void *vc, int tid, int64_t r0, int64_t r1) {
  proj_ctx *c = (proj_ctx *)vc;
  (void)tid;
  for (int64_t r = r0; r < r1; r++) {
    float *w = c->W + r * c->D;
    double nn = 0;
    for (int64_t j = 0; j < c->D; j++) nn += (double)w[j] * w[j];
    float n = (float)sqrt(nn) + c->eps;
    for (int64_t j = 0; j < c->D; j++) w[j] /= n;
  }
}

typedef struct {
  float *g;
  double part[64];
  float scale;
} sq_ctx;

static void k_sumsq(void *vc, int tid, int64_t i0, int64_t i1) {
  sq_ctx *c = (sq_ctx *)vc;
  double s = 0;
  for (int64_t i = i0; i < i1; i++) s += (double)c->g[i] * c->g[i];
  c->part[tid] = s;
}

static void k_scale(void *vc, int tid, int64_t i0, int64_t i1) {
  sq_ctx *c = (sq_ctx *)vc;
  (void)tid;
  for (int64_t i = i0; i < i1; i++) c->g[i] *= c->scale;
}

/* torch.nn.utils.clip_grad_norm_: every gradient × min(max / (‖g‖ + 1e-6), 1) */
static void clip_grads(float **g, const int64_t *n, int count, double max_norm) {
  double total = 0;
  sq_ctx s;
  for (int i = 0; i < count; i++) {
    s.g = g[i];
    int used = par_for(n[i], 65536, k_sumsq, &s);
    for (int t = 0; t < used; t++) total += s.part[t];
  }
  double coef = max_norm / (sqrt(total) + 1e-6);
  if (coef >= 1.0) return;
  s.scale = (float)coef;
  for (int i = 0; i < count; i++) {
    s.g = g[i];
    par_for(n[i], 65536, k_scale, &s);
  }
}

static void adam_all(float **params, float **grads, float **moments, const int64_t *n, int count, const double *hyper_adam) {
  /* hyper_adam: beta1, beta2, eps, stepSize, bc2Sqrt */
  adam_ctx a = {NULL, NULL, NULL, NULL, (float)hyper_adam[0], (float)(1.0 - hyper_adam[0]), (float)hyper_adam[1], (float)(1.0 - hyper_adam[1]),
                (float)hyper_adam[2], (float)hyper_adam[3], (float)hyper_adam[4], hyper_adam[0] == 0.0};
  for (int i = 0; i < count; i++) {
    a.p = params[i];
    a.g = grads[i];
    a.m = moments[2 * i];
    a.v = moments[2 * i + 1];
    par_for(n[i], 65536, k_adam, &a);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* N-API                                                                                      */

static napi_value throw_err(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

/* the data of a typed array of type `want_type` with at least `want` elements; 0 if v is not one */
static int get_typed(napi_env env, napi_value v, napi_typedarray_type want_type, size_t want, void **out) {
  bool is_ta = false;
  napi_typedarray_type type;
  size_t len = 0, off = 0;
  void *data = NULL;
  napi_value ab;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  if (napi_get_typedarray_info(env, v, &type, &len, &data, &ab, &off) != napi_ok || type != want_type || len < want) return 0;
  *out = data;
  return 1;
}

static int get_f64s(napi_env env, napi_value v, size_t want, double **out) {
  void *data;
  if (!get_typed(env, v, napi_float64_array, want, &data)) return 0;
  *out = (double *)data;
  return 1;
}

static int get_f32s(napi_env env, napi_value v, size_t want, float **out) {
  void *data;
  if (!get_typed(env, v, napi_float32_array, want, &data)) return 0;
  *out = (float *)data;
  return 1;
}

/* the tensors of a step, bounds-checked against the heap: offsets[i] (float32 elements) of sizes[i] */
static int heap_tensors(const double *off, const size_t *sizes, int n, void *heap, size_t heap_bytes, float **t) {
  for (int i = 0; i < n; i++) {
    int64_t o = (int64_t)off[i];
    if (!(off[i] >= 0) || (double)o != off[i] || (size_t)(o + (int64_t)sizes[i]) * 4 > heap_bytes) return 0;
    t[i] = (float *)heap + o;
  }
  return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* what every step shares: its arguments, x − b_dec, the parameter update                      */

/*
 * Every step is name(heap, offsets, dims, hyper, stats, fired[, tokensSinceFired]), offsets being
 * float32 elements into heap of x, the parameters, then Adam's (m, v) of each parameter in turn.
 * A step_spec holds what differs between the steps; parse_step_args checks everything in one
 * order, so all steps throw the same errors (prefixed with their name) for the same mistakes.
 */
enum { MAX_PARAMS = 6 };
typedef enum { P_DF, P_F, P_D } param_shape; /* D·F elements (W_enc [D,F], W_dec [F,D]), F, D */

typedef struct {
  const char *name; /* the JS name, the prefix of its errors */
  size_t argc;      /* 6, or 7 for tokensSinceFired (Float64Array[F]) after fired */
  int n_params;
  param_shape shape[MAX_PARAMS];
  int n_hyper, n_stats;
  int64_t min_D; /* top-k's AuxK picks D/2 features: D ≥ 2 */
  /* the step's own checks of hyper (made before the heap bounds): an error's text, or NULL */
  const char *(*check_hyper)(const double *hyper, int64_t F);
} step_spec;

typedef struct {
  int64_t B, D, F;
  const double *hyper;
  double *stats;
  double *tsf; /* tokensSinceFired (argc 7), else NULL */
  float *fired;
  float *x;
  int n_params;
  float *param[MAX_PARAMS];
  float *moment[2 * MAX_PARAMS]; /* m, v of param[0], then of param[1], ... (adam_all's order) */
  int64_t n[MAX_PARAMS];         /* elements of each parameter */
} step_args;

/* throws "<name>: <what>"; false, for `return fail(...)` */
static bool fail(napi_env env, const step_spec *sp, const char *what) {
  char msg[192];
  snprintf(msg, sizeof msg, "%s: %s", sp->name, what);
  napi_throw_error(env, NULL, msg);
  return false;
}

/* fills a, or throws a JS error and returns false */
static bool parse_step_args(napi_env env, napi_callback_info info, const step_spec *sp, step_args *a) {
  char what[128];
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != sp->argc) {
    snprintf(what, sizeof what, "expected %zu arguments", sp->argc);
    return fail(env, sp, what);
  }
  void *heap = NULL;
  size_t heap_bytes = 0;
  if (napi_get_arraybuffer_info(env, argv[0], &heap, &heap_bytes) != napi_ok) return fail(env, sp, "heap must be an ArrayBuffer");
  const int np = sp->n_params, n_off = 1 + 3 * np;
  double *off, *dims, *hyper;
  if (!get_f64s(env, argv[1], n_off, &off) || !get_f64s(env, argv[2], 3, &dims) || !get_f64s(env, argv[3], sp->n_hyper, &hyper) ||
      !get_f64s(env, argv[4], sp->n_stats, &a->stats)) {
    snprintf(what, sizeof what, "offsets[%d], dims[3], hyper[%d], stats[%d] must be Float64Arrays", n_off, sp->n_hyper, sp->n_stats);
    return fail(env, sp, what);
  }
  const int64_t B = (int64_t)dims[0], D = (int64_t)dims[1], F = (int64_t)dims[2];
  if (B < 2 || D < sp->min_D || F < 1 || (double)B != dims[0] || (double)D != dims[1] || (double)F != dims[2]) return fail(env, sp, "bad dims");
  const bool with_tsf = sp->argc == 7;
  a->tsf = NULL;
  if (!get_f32s(env, argv[5], (size_t)F, &a->fired) || (with_tsf && !get_f64s(env, argv[6], (size_t)F, &a->tsf)))
    return fail(env, sp, with_tsf ? "fired must be a Float32Array and tokensSinceFired a Float64Array of length F" : "fired must be a Float32Array of length F");
  const char *bad = sp->check_hyper ? sp->check_hyper(hyper, F) : NULL;
  if (bad) return fail(env, sp, bad);
  size_t sizes[1 + 3 * MAX_PARAMS];
  sizes[0] = B * D;
  for (int i = 0; i < np; i++) {
    a->n[i] = sp->shape[i] == P_DF ? D * F : sp->shape[i] == P_F ? F : D;
    sizes[1 + i] = sizes[1 + np + 2 * i] = sizes[2 + np + 2 * i] = a->n[i];
  }
  float *t[1 + 3 * MAX_PARAMS];
  if (!heap_tensors(off, sizes, n_off, heap, heap_bytes, t)) return fail(env, sp, "a tensor lies outside the heap");
  a->B = B;
  a->D = D;
  a->F = F;
  a->hyper = hyper;
  a->x = t[0];
  a->n_params = np;
  memcpy(a->param, t + 1, np * sizeof(float *));
  memcpy(a->moment, t + 1 + np, 2 * np * sizeof(float *));
  return true;
}

/* xc = x − b_dec */
static void center_rows(const float *x, const float *b_dec, float *xc, int64_t B, int64_t D, int64_t rows_min) {
  step_ctx c = {.B = B, .D = D, .x = x, .b_dec = b_dec, .xc = xc};
  par_for(B, rows_min, k_center, &c);
}

/* w_j ← w_j / (‖w_j‖ + eps) for the F rows of W [F,D] */
static void renorm_rows(float *W, int64_t D, int64_t F, float eps) {
  proj_ctx c = {W, NULL, D, eps, true};
  par_for(F, 64, k_renorm, &c);
}

/*
 * The update after the backward pass, in the reference trainers' order: project ∂W_dec off the
 * decoder rows, Adam on every parameter, renormalise the decoder rows. Where the trainers differ
 * (update_opts): whether and where the global gradient norm is clipped (top_k before the
 * projection; batch_top_k and JumpReLU after it; ConstrainedAdam, i.e. standard, p-anneal and
 * gated, not at all), the eps in ‖w_j‖ + eps (0 for ConstrainedAdam), whether the projection
 * normalises the rows (top_k's are unit already) and whether the renormalisation is here at all
 * (top_k does it before the loss).
 */
typedef enum { CLIP_NONE, CLIP_BEFORE_PROJECT, CLIP_AFTER_PROJECT } clip_at;

typedef struct {
  int dec; /* index of W_dec among the parameters (and of ∂W_dec among the gradients) */
  clip_at clip;
  double max_norm; /* clip_grad_norm_'s max_norm, when clipping */
  float project_eps;
  bool project_normalize; /* false: u_j = w_j */
  bool renorm;            /* after Adam */
  float renorm_eps;
  const double *adam; /* beta1, beta2, eps, stepSize, bc2Sqrt */
} update_opts;

static void update_params(step_args *a, float **grads, const update_opts *u) {
  const int np = a->n_params;
  proj_ctx pj = {a->param[u->dec], grads[u->dec], a->D, u->project_eps, u->project_normalize};
  if (u->clip == CLIP_BEFORE_PROJECT) clip_grads(grads, a->n, np, u->max_norm);
  par_for(a->F, 64, k_project, &pj);
  if (u->clip == CLIP_AFTER_PROJECT) clip_grads(grads, a->n, np, u->max_norm);
  adam_all(a->param, grads, a->moment, a->n, np, u->adam);
  if (u->renorm) renorm_rows(a->param[u->dec], a->D, a->F, u->renorm_eps);
}

/* the step's scratch floats and the per-thread double column sums cold [T][2D], followed by
   varD [D] | colE [D]; throws "<name>: out of memory ..." and returns false when either fails */
static bool alloc_step_buffers(napi_env env, const step_spec *sp, size_t need, int T, int64_t D, float **s, double **cold) {
  *s = get_scratch(need);
  *cold = (double *)calloc((size_t)T * 2 * D + 2 * (size_t)D, sizeof(double));
  if (!*s || !*cold) {
    free(*cold);
    return fail(env, sp, "out of memory for scratch buffers");
  }
  return true;
}

/* out[k] = Σ_t parts[t·stride + k] over the threads used, k < n (a column sum's per-thread parts) */
static void sum_parts(float *out, const float *parts, int used, size_t stride, int64_t n) {
  memset(out, 0, n * sizeof(float));
  for (int i = 0; i < used; i++)
    for (int64_t k = 0; k < n; k++) out[k] += parts[(size_t)i * stride + k];
}

/* Σ_d Var(e)·(B−1) from Σ e² and the column sums of e (the FVE's numerator) */
static double sum_var_e(double sse, const double *colE, int64_t B, int64_t D) {
  double vare = sse;
  for (int64_t j = 0; j < D; j++) vare -= colE[j] * colE[j] / (double)B;
  return vare;
}

/*
 * After a residual pass whose threads left [colsum e | colsum ∂/∂x̂] in cold[t·2D ..]: Σ_d Var(x)·(B−1)
 * into *varx (Var(x) per column goes through varD first), then colE = Σ_b e and, over varD,
 * dbd = Σ_b ∂/∂x̂. False when out of memory.
 */
static bool sum_residual_cols(const float *x, int64_t B, int64_t D, double *cold, int T, int used, double *varx) {
  double *varD = cold + (size_t)T * 2 * D, *colE = varD + D, *dbd = varD;
  if (!col_var(x, B, D, varD)) return false;
  for (int64_t j = 0; j < D; j++) *varx += varD[j];
  memset(dbd, 0, 2 * D * sizeof(double));
  for (int i = 0; i < used; i++)
    for (int64_t j = 0; j < D; j++) {
      colE[j] += cold[(size_t)i * 2 * D + j];
      dbd[j] += cold[(size_t)i * 2 * D + D + j];
    }
  return true;
}

typedef struct {
  const float *G, *W;
  int64_t B, F, D;
  double *s, *out;
} colsum_ctx;

/* s[k] = Σ_b G[b,k] for the columns k0..k1 (in double) */
static void k_colsum_cols(void *vc, int tid, int64_t k0, int64_t k1) {
  colsum_ctx *c = (colsum_ctx *)vc;
  (void)tid;
  memset(c->s + k0, 0, (size_t)(k1 - k0) * sizeof(double));
  for (int64_t b = 0; b < c->B; b++) {
    const float *g = c->G + b * c->F;
    for (int64_t k = k0; k < k1; k++) c->s[k] += g[k];
  }
}

/* out[j] = Σ_k W[j,k]·s[k] for the rows j0..j1 of W [D,F] */
static void k_rows_dot_s(void *vc, int tid, int64_t j0, int64_t j1) {
  colsum_ctx *c = (colsum_ctx *)vc;
  (void)tid;
  for (int64_t j = j0; j < j1; j++) {
    const float *w = c->W + j * c->F;
    double acc = 0;
    for (int64_t k = 0; k < c->F; k++) acc += w[k] * c->s[k];
    c->out[j] = acc;
  }
}

/*
 * Σ_b ∂/∂xc[b,:] for ∂xc = G·W_encᵀ (G = ∂pre [B,F], W_enc [D,F]) without forming ∂xc: it feeds
 * only ∂b_dec, and Σ_b G·W_encᵀ = W_enc·(Σ_b G), so B·F + D·F work replaces a 2·B·D·F-flop
 * GEMM (the sixth of the standard step's six). gsum: Σ_b G when the step has it already (∂b_enc),
 * else NULL and it is summed here. In double; false when out of memory.
 */
static bool centred_colsum(const float *G, const float *gsum, int64_t B, int64_t F, const float *W_enc, int64_t D, double *out) {
  double *s = (double *)malloc((size_t)F * sizeof(double));
  if (!s) return false;
  colsum_ctx c = {G, W_enc, B, F, D, s, out};
  if (gsum)
    for (int64_t k = 0; k < F; k++) s[k] = gsum[k];
  else
    par_for(F, 256, k_colsum_cols, &c);
  par_for(D, 16, k_rows_dot_s, &c);
  free(s);
  return true;
}

/* ∂b_dec = Σ_b ∂/∂x̂ − Σ_b ∂/∂(x − b_dec) (dxc_sum [D] from centred_colsum, NULL when the input is not centred) */
static void bdec_grad(const double *dbd, const double *dxc_sum, int64_t D, float *dbdec) {
  for (int64_t j = 0; j < D; j++) dbdec[j] = (float)(dbd[j] - (dxc_sum ? dxc_sum[j] : 0.0));
}

/* y += a·w and a·b over n floats: the sparse decodes and ∂/∂f entries of the top-k and sparse
   ReLU steps (float, reassociated into SIMD lanes like the GEMMs they replace) */
HOT static void axpy_f(float *restrict y, const float *restrict w, float a, int64_t n) {
  for (int64_t j = 0; j < n; j++) y[j] += a * w[j];
}

HOT static float dot_f(const float *restrict a, const float *restrict b, int64_t n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; j++) s += a[j] * b[j];
  return s;
}

/*
 * Sparse products for the top-k backward (f and ∂/∂pre have k of F entries per row) and for the
 * ReLU step once training has made f sparse (L0 of a trained SAE is a few % of F): ∂W_dec = fᵀ·e,
 * ∂W_enc = xcᵀ·∂pre, and for ReLU also x̂ = f·W_dec and ∂/∂f at f's nonzeros cost nnz·D each
 * instead of B·F·D (∂xc is never formed: centred_colsum).
 * The matrix is indexed once by rows (CSR) and by columns (CSC, with `at`: the CSC position of
 * each CSR entry, so values computed in row order can replace the column-order ones); every
 * product is split over threads by output rows, so no two threads write the same memory.
 */
typedef struct {
  int64_t B, F, nnz;
  const float *M;
  /* JumpReLU (sparse_build_window): M is the pre-activation; an entry belongs when pre > θ or
     rect((pre − θ)/bw), and its value is V's (f) */
  const float *theta, *V;
  float bw;
  int64_t *rp; /* [B+1] */
  int32_t *ci; /* [nnz] column of each entry, row order */
  float *rv;   /* [nnz] */
  int64_t *cp; /* [F+1] */
  int32_t *ri; /* [nnz] row of each entry, column order */
  float *cv;   /* [nnz] */
  int64_t *at; /* [nnz] CSC position of each CSR entry */
} sparse_t;

/* JumpReLU's straight-through window: rect(u) = 1 for −½ < u < ½ (strict); & rather than &&:
   no short-circuit branch, so the loops that use it vectorise */
static inline bool rect(float u) { return (u + 0.5f > 0.0f) & (0.5f - u > 0.0f); }

/* whether entry i of row m belongs to the index */
static inline bool sp_member(const sparse_t *s, const float *m, int64_t i) {
  if (!s->theta) return m[i] != 0.0f;
  const float pmt = m[i] - s->theta[i];
  return (pmt > 0.0f) | rect(pmt / s->bw);
}

static void k_sp_count(void *vc, int tid, int64_t b0, int64_t b1) {
  sparse_t *s = (sparse_t *)vc;
  (void)tid;
  for (int64_t b = b0; b < b1; b++) {
    const float *m = s->M + b * s->F;
    int64_t n = 0;
    for (int64_t i = 0; i < s->F; i++) n += sp_member(s, m, i);
    s->rp[b + 1] = n;
  }
}

static void k_sp_fill(void *vc, int tid, int64_t b0, int64_t b1) {
  sparse_t *s = (sparse_t *)vc;
  (void)tid;
  for (int64_t b = b0; b < b1; b++) {
    const float *m = s->M + b * s->F, *val = (s->V ? s->V : s->M) + b * s->F;
    int64_t n = s->rp[b];
    for (int64_t i = 0; i < s->F; i++)
      if (sp_member(s, m, i)) {
        s->ci[n] = (int32_t)i;
        s->rv[n++] = val[i];
      }
  }
}

static void sparse_free(sparse_t *s) {
  free(s->rp);
  free(s->ci);
  free(s->rv);
  free(s->cp);
  free(s->ri);
  free(s->cv);
  free(s->at);
  memset(s, 0, sizeof *s);
}

/* indexes the members of M [B,F] (its nonzeros, or sp_member's window rule when theta is given);
   false (nothing allocated) when there are more than max_nnz or memory runs out: the caller
   then takes the dense GEMMs */
static bool sparse_build_on(const float *M, const float *theta, const float *V, float bw, int64_t B, int64_t F, int64_t max_nnz, sparse_t *s) {
  memset(s, 0, sizeof *s);
  s->B = B;
  s->F = F;
  s->M = M;
  s->theta = theta;
  s->V = V;
  s->bw = bw;
  s->rp = (int64_t *)malloc((size_t)(B + 1) * sizeof(int64_t));
  if (!s->rp) return false;
  s->rp[0] = 0;
  par_for(B, 16, k_sp_count, s);
  for (int64_t b = 0; b < B; b++) s->rp[b + 1] += s->rp[b];
  s->nnz = s->rp[B];
  if (s->nnz > max_nnz) {
    sparse_free(s);
    return false;
  }
  const size_t n = (size_t)(s->nnz > 0 ? s->nnz : 1);
  s->ci = (int32_t *)malloc(n * sizeof(int32_t));
  s->rv = (float *)malloc(n * sizeof(float));
  s->cp = (int64_t *)calloc((size_t)F + 1, sizeof(int64_t));
  s->ri = (int32_t *)malloc(n * sizeof(int32_t));
  s->cv = (float *)malloc(n * sizeof(float));
  s->at = (int64_t *)malloc(n * sizeof(int64_t));
  int64_t *pos = (int64_t *)malloc((size_t)F * sizeof(int64_t));
  if (!s->ci || !s->rv || !s->cp || !s->ri || !s->cv || !s->at || !pos) {
    free(pos);
    sparse_free(s);
    return false;
  }
  par_for(B, 16, k_sp_fill, s);
  for (int64_t q = 0; q < s->nnz; q++) s->cp[s->ci[q] + 1]++;
  for (int64_t q = 0; q < F; q++) s->cp[q + 1] += s->cp[q];
  memcpy(pos, s->cp, (size_t)F * sizeof(int64_t));
  for (int64_t b = 0; b < B; b++)
    for (int64_t q = s->rp[b]; q < s->rp[b + 1]; q++) {
      int64_t at = pos[s->ci[q]]++;
      s->ri[at] = (int32_t)b;
      s->cv[at] = s->rv[q];
      s->at[q] = at;
    }
  free(pos);
  return true;
}

static bool sparse_build(const float *M, int64_t B, int64_t F, int64_t max_nnz, sparse_t *s) {
  return sparse_build_on(M, NULL, NULL, 0.0f, B, F, max_nnz, s);
}

/* JumpReLU: the entries with pre > θ (f's nonzeros) or inside θ's rect window, valued f */
static bool sparse_build_window(const float *pre, const float *f, const float *theta, float bw, int64_t B, int64_t F, int64_t max_nnz, sparse_t *s) {
  return sparse_build_on(pre, theta, f, bw, B, F, max_nnz, s);
}

typedef struct {
  const sparse_t *s;
  const float *E; /* [B,D] (tn) or [F,D] (rows) */
  int64_t D;
  float *out;
} sp_ctx;

/* out[i,:] = Σ_n val[n]·E[idx[n],:] over n in ptr[i]..ptr[i+1], for i0 ≤ i < i1: one side of the
   index (CSC: out = Mᵀ·E; CSR: out = M·E) */
static void sp_gather(const int64_t *ptr, const int32_t *idx, const float *val, const float *E, int64_t D, float *out, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; i++) {
    float *o = out + i * D;
    memset(o, 0, D * sizeof(float));
    for (int64_t n = ptr[i]; n < ptr[i + 1]; n++) axpy_f(o, E + (int64_t)idx[n] * D, val[n], D);
  }
}

/* out = Mᵀ·E [F,D] (E [B,D]), split by columns q */
static void k_sp_tn(void *vc, int tid, int64_t q0, int64_t q1) {
  sp_ctx *c = (sp_ctx *)vc;
  (void)tid;
  sp_gather(c->s->cp, c->s->ri, c->s->cv, c->E, c->D, c->out, q0, q1);
}

/* out = M·E [B,D] (E [F,D]), split by rows b */
static void k_sp_rows(void *vc, int tid, int64_t b0, int64_t b1) {
  sp_ctx *c = (sp_ctx *)vc;
  (void)tid;
  sp_gather(c->s->rp, c->s->ci, c->s->rv, c->E, c->D, c->out, b0, b1);
}

typedef struct {
  const float *src;
  int64_t rows, cols;
  float *dst;
} tr_ctx;

/* dst [cols,rows] = srcᵀ, in 32×32 tiles; split over blocks of source rows */
static void k_transpose(void *vc, int tid, int64_t blk0, int64_t blk1) {
  tr_ctx *c = (tr_ctx *)vc;
  (void)tid;
  for (int64_t i0 = blk0 * 32; i0 < blk1 * 32 && i0 < c->rows; i0 += 32)
    for (int64_t j0 = 0; j0 < c->cols; j0 += 32)
      for (int64_t i = i0; i < i0 + 32 && i < c->rows; i++)
        for (int64_t j = j0; j < j0 + 32 && j < c->cols; j++) c->dst[j * c->rows + i] = c->src[i * c->cols + j];
}

static void transpose(const float *src, int64_t rows, int64_t cols, float *dst) {
  tr_ctx c = {src, rows, cols, dst};
  par_for((rows + 31) / 32, 1, k_transpose, &c);
}

/* ∂W_enc [D,F] = Xᵀ·∂pre on the index (its CSC values hold ∂pre), as (∂preᵀ·X)ᵀ through an [F,D]
   scratch: `room` (room_floats the step no longer needs) when it holds F·D, else allocated;
   false when out of memory */
static bool sparse_dwenc(const sparse_t *sp, const float *X, int64_t D, int64_t F, float *room, int64_t room_floats, float *dWenc) {
  float *fd = room_floats >= F * D ? room : (float *)malloc((size_t)F * D * sizeof(float));
  if (!fd) return false;
  sp_ctx se = {sp, X, D, fd};
  par_for(F, 16, k_sp_tn, &se);
  transpose(fd, F, D, dWenc);
  if (fd != room) free(fd);
  return true;
}

typedef struct {
  sparse_t *s;
  const float *E, *W; /* ∂/∂x̂ [B,D], W_dec [F,D] */
  int64_t D, F;
  float *colf; /* [threads][F] */
  lp_grad lg;
} relu_sp_ctx;

/* ∂pre at f's nonzeros = e_b·W_dec[q] + the penalty's gradient at f (as masked_row_p1/_p), in
   row order, stored over f's column-order values (spent once ∂W_dec is made) at their CSC
   position; column sums into colf */
static void k_sp_relu_dpre(void *vc, int tid, int64_t b0, int64_t b1) {
  relu_sp_ctx *c = (relu_sp_ctx *)vc;
  sparse_t *s = c->s;
  const int64_t D = c->D;
  float *col = c->colf + (size_t)tid * c->F;
  memset(col, 0, c->F * sizeof(float));
  for (int64_t b = b0; b < b1; b++) {
    const float *e = c->E + b * D;
    for (int64_t n = s->rp[b]; n < s->rp[b + 1]; n++) {
      const int32_t q = s->ci[n];
      const float pen = c->lg.p1 ? c->lg.k1 : c->lg.kp * pow_pos(s->rv[n], c->lg.pm1);
      const float g = dot_f(e, c->W + (int64_t)q * D, D) + pen;
      s->cv[s->at[n]] = g;
      col[q] += g;
    }
  }
}

/*
 * reluStep(heap: ArrayBuffer, offsets: Float64Array[13], dims: Float64Array[3],
 *          hyper: Float64Array[9], stats: Float64Array[8], fired: Float32Array[F])
 * offsets (float32 elements into heap): x, W_enc, b_enc, W_dec, b_dec, then Adam (m, v) for
 *   W_enc, b_enc, W_dec, b_dec.
 * hyper: lambda, p, next_p (< 0: none), beta1, beta2, eps, stepSize (lr / (1 − β1^t)), bc2Sqrt, (unused)
 * stats out: loss, recon, lp, lpNext, l0count, sse, varX·(B−1), varE·(B−1)
 */
static const step_spec relu_spec = {
    .name = "reluStep", .argc = 6, .n_params = 4, .shape = {P_DF, P_F, P_DF, P_D}, .n_hyper = 9, .n_stats = 8, .min_D = 1};

static napi_value ReluStep(napi_env env, napi_callback_info info) {
  step_args a;
  if (!parse_step_args(env, info, &relu_spec, &a)) return NULL;
  const int64_t B = a.B, D = a.D, F = a.F;
  const double *hyper = a.hyper;
  double *stats = a.stats;
  float *fired = a.fired;
  const int T = n_threads();
  /* scratch: xc [B,D] | f [B,F] | d [B,F] | e [B,D] | grads dWenc [D,F], dWdec [F,D], dbenc [F], dbdec [D] | colf [T,F] | cold [T,2D] */
  size_t need = (size_t)B * D * 2 + (size_t)B * F * 2 + (size_t)D * F * 2 + F + D + (size_t)T * F + (size_t)T * 2 * D;
  float *s = get_scratch(need);
  if (!s) return throw_err(env, "reluStep: out of memory for scratch buffers");
  float *xc = s, *f = xc + B * D, *d = f + B * F, *e = d + B * F;
  float *dWenc = e + B * D, *dWdec = dWenc + D * F, *dbenc = dWdec + F * D, *dbdec = dbenc + F, *colf = dbdec + D;
  step_ctx c = {.B = B, .D = D, .F = F, .x = a.x, .W_enc = a.param[0], .b_enc = a.param[1], .W_dec = a.param[2], .b_dec = a.param[3],
                .xc = xc, .f = f, .d = d, .e = e, .lambda = hyper[0], .p = hyper[1], .next_p = hyper[2],
                .colf = colf, .cold = colf + (size_t)T * F};
  const int64_t rows_min = 16;

  PROFILE_START;
  /* forward */
  center_rows(c.x, c.b_dec, c.xc, B, D, rows_min);
  TICK("center");
  gemm(NoTrans, NoTrans, B, F, D, c.xc, c.W_enc, 0.0f, c.f);
  TICK("gemm enc");
  int used = par_for(B, rows_min, k_relu_stats, &c);
  TICK("relu+stats");
  double l0 = 0, lp = 0, lnext = 0;
  for (int i = 0; i < used; i++) {
    l0 += c.part[i][0];
    lp += c.part[i][1];
    lnext += c.part[i][2];
  }
  sum_parts(fired, c.colf, used, F, F);
  for (int64_t k = 0; k < F; k++) fired[k] = fired[k] > 0.0f ? 1.0f : 0.0f;
  TICK("reduce f");
  /* once training has made f sparse (≤ 1/16 of its entries; l0 counted them), the decoder side
     works on f's nonzeros: x̂, ∂W_dec, ∂/∂f where it matters, ∂W_enc (SAEBOARD_SAE_SPARSE=0: dense) */
  const char *sp_env = getenv("SAEBOARD_SAE_SPARSE");
  const int64_t max_nnz = B * F / 16;
  sparse_t sp;
  const bool sparse = !(sp_env && strcmp(sp_env, "0") == 0) && l0 <= (double)max_nnz && sparse_build(c.f, B, F, max_nnz, &sp);
  if (sparse) {
    sp_ctx sr = {&sp, c.W_dec, D, c.e};
    par_for(B, rows_min, k_sp_rows, &sr);
    TICK("sparse dec");
  } else {
    gemm(NoTrans, NoTrans, B, D, F, c.f, c.W_dec, 0.0f, c.e);
    TICK("gemm dec");
  }
  /* the FVE needs Var(x) */
  double *colE = (double *)calloc((size_t)D, sizeof(double)); /* Var(x) per column, then column sums of e */
  if (!colE || !col_var(c.x, B, D, colE)) {
    free(colE);
    if (sparse) sparse_free(&sp);
    return throw_err(env, "reluStep: out of memory");
  }
  double varx = 0;
  for (int64_t j = 0; j < D; j++) varx += colE[j];
  memset(colE, 0, D * sizeof(double));
  used = par_for(B, rows_min, k_residual, &c);
  double rsum = 0, sse = 0;
  memset(dbdec, 0, D * sizeof(float));
  for (int i = 0; i < used; i++) {
    rsum += c.part[i][3];
    sse += c.part[i][4];
    for (int64_t j = 0; j < D; j++) {
      colE[j] += c.cold[(size_t)i * 2 * D + j];
      dbdec[j] += c.cold[(size_t)i * 2 * D + D + j];
    }
  }
  double vare = sum_var_e(sse, colE, B, D);
  free(colE);

  /* backward: c.e now holds ∂/∂x̂ */
  TICK("residual");
  if (sparse) {
    sp_ctx sc = {&sp, c.e, D, dWdec};
    par_for(F, 16, k_sp_tn, &sc);
    TICK("sparse dWdec");
    relu_sp_ctx rc = {&sp, c.e, c.W_dec, D, F, c.colf, lp_grad_of(c.lambda, c.p, B)};
    used = par_for(B, rows_min, k_sp_relu_dpre, &rc);
    sum_parts(dbenc, c.colf, used, F, F);
    TICK("sparse dF+mask");
    /* in d's room (the dense ∂F is not needed) */
    const bool done = sparse_dwenc(&sp, c.xc, D, F, c.d, B * F, dWenc);
    sparse_free(&sp);
    if (!done) return throw_err(env, "reluStep: out of memory");
    TICK("sparse dWenc");
  } else {
    gemm(Trans, NoTrans, F, D, B, c.f, c.e, 0.0f, dWdec);
    TICK("gemm dWdec");
    gemm(NoTrans, Trans, B, F, D, c.e, c.W_dec, 0.0f, c.d);
    TICK("gemm dF");
    used = par_for(B, rows_min, k_masked_grad, &c);
    TICK("masked grad");
    sum_parts(dbenc, c.colf, used, F, F);
    gemm(Trans, NoTrans, D, F, B, c.xc, c.d, 0.0f, dWenc);
    TICK("gemm dWenc");
  }
  double *dxc_sum = (double *)malloc((size_t)D * sizeof(double));
  if (!dxc_sum || !centred_colsum(NULL, dbenc, B, F, c.W_enc, D, dxc_sum)) {
    free(dxc_sum);
    return throw_err(env, "reluStep: out of memory");
  }
  for (int64_t j = 0; j < D; j++) dbdec[j] = (float)((double)dbdec[j] - dxc_sum[j]);
  free(dxc_sum);
  TICK("sum dXc");

  /* stats (before the update, as the reference reports them) */
  const double lambda = c.lambda;
  stats[0] = rsum / (double)B + lambda * (lp / (double)B);
  stats[1] = rsum / (double)B;
  stats[2] = lp / (double)B;
  stats[3] = c.next_p >= 0 ? lnext / (double)B : 0;
  stats[4] = l0;
  stats[5] = sse;
  stats[6] = varx;
  stats[7] = vare;
  if (!isfinite(stats[0])) return NULL; /* the caller sees the non-finite loss; parameters untouched */

  /* ConstrainedAdam: project the decoder gradient, Adam on all four, renormalise the decoder rows */
  float *grads[4] = {dWenc, dbenc, dWdec, dbdec};
  const update_opts u = {.dec = 2, .clip = CLIP_NONE, .project_normalize = true, .renorm = true, .adam = hyper + 3};
  update_params(&a, grads, &u);
  TICK("adam");
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* top-k masks                                                                                */

/* the k-th largest of a[0..n) (a is scrambled): iterative quickselect, median-of-three pivot */
static float kth_largest(float *a, int64_t n, int64_t k) {
  int64_t lo = 0, hi = n - 1, want = k - 1; /* index of the k-th largest in descending order */
  while (hi > lo) {
    int64_t mid = lo + (hi - lo) / 2;
    float x = a[lo], y = a[mid], z = a[hi];
    float pivot = (x > y) ? ((y > z) ? y : (x > z ? z : x)) : ((x > z) ? x : (y > z ? z : y));
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        float t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return a[want];
  }
  return a[want];
}

typedef struct {
  const float *v;
  float *mask;
  int64_t cols, k;
  float *scratch; /* [threads][cols] */
} topk_ctx;

/* the k-th largest of a[0..n) for small k: a size-k min-heap, one comparison per element once full */
static float kth_largest_heap(const float *a, int64_t n, int64_t k, float *h) {
  for (int64_t i = 0; i < k; i++) {
    /* sift up */
    int64_t j = i;
    h[j] = a[i];
    while (j > 0 && h[(j - 1) / 2] > h[j]) {
      float t = h[j];
      h[j] = h[(j - 1) / 2];
      h[(j - 1) / 2] = t;
      j = (j - 1) / 2;
    }
  }
  for (int64_t i = k; i < n; i++) {
    if (!(a[i] > h[0])) continue;
    h[0] = a[i];
    int64_t j = 0;
    for (;;) { /* sift down */
      int64_t l = 2 * j + 1, r = l + 1, m = j;
      if (l < k && h[l] < h[m]) m = l;
      if (r < k && h[r] < h[m]) m = r;
      if (m == j) break;
      float t = h[j];
      h[j] = h[m];
      h[m] = t;
      j = m;
    }
  }
  return h[0];
}

/*
 * The k-th largest of a[0..n) for k ≤ n/8 without a heap pass over every entry: a threshold from a
 * strided sample of 256 (its (2·k·256/n + 2)-th largest, so about twice k entries of the row reach
 * it), the entries at or above it gathered (branch-free), and a select among those. The result is
 * the heap's exactly: when at least k entries reach the threshold, the k-th largest does too, and
 * so do all entries above it; when fewer do (an unlucky sample), the heap runs. tmp: n floats.
 */
static float kth_largest_filtered(const float *a, int64_t n, int64_t k, float *tmp) {
  enum { S = 256 };
  if (n < 4 * S) return kth_largest_heap(a, n, k, tmp);
  const int64_t stride = n / S;
  for (int64_t i = 0; i < S; i++) tmp[i] = a[i * stride];
  int64_t ks = 2 * k * S / n + 2;
  ks = ks > S ? S : ks;
  const float t = kth_largest(tmp, S, ks);
  int64_t m = 0;
  for (int64_t i = 0; i < n; i++) {
    tmp[m] = a[i];
    m += a[i] >= t;
  }
  return m >= k ? kth_largest(tmp, m, k) : kth_largest_heap(a, n, k, tmp);
}

static void k_topk_mask(void *vc, int tid, int64_t r0, int64_t r1) {
  topk_ctx *c = (topk_ctx *)vc;
  float *tmp = c->scratch + (size_t)tid * c->cols;
  for (int64_t r = r0; r < r1; r++) {
    const float *row = c->v + r * c->cols;
    float kth;
    if (c->k * 8 <= c->cols) {
      kth = kth_largest_filtered(row, c->cols, c->k, tmp);
    } else {
      memcpy(tmp, row, c->cols * sizeof(float));
      kth = kth_largest(tmp, c->cols, c->k);
    }
    float *m = c->mask + r * c->cols;
    for (int64_t i = 0; i < c->cols; i++) m[i] = row[i] >= kth ? 1.0f : 0.0f;
  }
}

/*
 * topkMask(heap, vOffset, maskOffset, rows, cols, k): mask[r, i] = 1 where v[r, i] is among the
 * k largest of its row (≥ the row's k-th largest value, as the tfjs reference's topKMask).
 */
static napi_value TopkMask(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6) return throw_err(env, "topkMask: expected 6 arguments");
  void *heap = NULL;
  size_t heap_bytes = 0;
  if (napi_get_arraybuffer_info(env, argv[0], &heap, &heap_bytes) != napi_ok) return throw_err(env, "topkMask: heap must be an ArrayBuffer");
  int64_t vo, mo, rows, cols, k;
  if (napi_get_value_int64(env, argv[1], &vo) != napi_ok || napi_get_value_int64(env, argv[2], &mo) != napi_ok ||
      napi_get_value_int64(env, argv[3], &rows) != napi_ok || napi_get_value_int64(env, argv[4], &cols) != napi_ok ||
      napi_get_value_int64(env, argv[5], &k) != napi_ok)
    return throw_err(env, "topkMask: offsets and sizes must be integers");
  if (rows < 1 || cols < 1 || k < 1 || k > cols || vo < 0 || mo < 0 || (size_t)(vo + rows * cols) * 4 > heap_bytes ||
      (size_t)(mo + rows * cols) * 4 > heap_bytes)
    return throw_err(env, "topkMask: bad sizes or a tensor outside the heap");
  const int T = n_threads();
  float *tmp = get_scratch((size_t)T * cols);
  if (!tmp) return throw_err(env, "topkMask: out of memory");
  topk_ctx c = {(const float *)heap + vo, (float *)heap + mo, cols, k, tmp};
  par_for(rows, 8, k_topk_mask, &c);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* the top-k and batch-top-k step                                                             */



/*
 * Same maths as src/sae/trainers/topK.ts and batchTopK.ts. The decoder products that only
 * touch the k selected features per row (x̂ = f W_dec, the AuxK decode, ∂/∂f at the selected
 * entries) are sparse row loops instead of dense GEMMs, and ∂xc is reduced to its column sums
 * (centred_colsum): 3–4 GEMMs instead of 6–9.
 */
typedef struct {
  int64_t B, D, F;
  int batch; /* 0: top_k (per-row k), 1: batch_top_k (k·B over the batch) */
  int64_t k, kaux;
  bool aux;
  float kth_global;
  const float *x;
  const float *W_enc, *b_enc, *W_dec, *b_dec;
  float *P;  /* [B,F] ReLU pre-activations */
  float *Fm; /* [B,F] f = P on the selected entries */
  float *A;  /* [B,F] AuxK activations, then ∂/∂pre */
  float *e;  /* [B,D] residual, then ∂/∂x̂ */
  float *eh; /* [B,D] AuxK decode, then its gradient */
  const float *dead, *w_D;
  double cc, grad_scale, denom_coef;
  float *tmp;   /* [T][F] */
  float *colf;  /* [T][F] */
  double *cold; /* [T][2D] */
  double part[64][8];
} tk_ctx;

static void k_tk_relu(void *vc, int tid, int64_t b0, int64_t b1) {
  tk_ctx *c = (tk_ctx *)vc;
  (void)tid;
  for (int64_t b = b0; b < b1; b++) {
    float *row = c->P + b * c->F;
    for (int64_t i = 0; i < c->F; i++) {
      float v = row[i] + c->b_enc[i];
      row[i] = v > 0.0f ? v : 0.0f;
    }
  }
}

static float row_kth(const float *row, int64_t n, int64_t k, float *tmp) {
  if (k * 8 <= n) return kth_largest_filtered(row, n, k, tmp);
  memcpy(tmp, row, n * sizeof(float));
  return kth_largest(tmp, n, k);
}

/* selection (f = P ≥ kth), fired flags, L0 count, smallest kept positive; the AuxK selection
   (the kaux largest P among dead features); the sparse decodes */
static void k_tk_select(void *vc, int tid, int64_t b0, int64_t b1) {
  tk_ctx *c = (tk_ctx *)vc;
  const int64_t F = c->F, D = c->D;
  float *tmp = c->tmp + (size_t)tid * F;
  float *col = c->colf + (size_t)tid * F;
  double *cd = c->cold + (size_t)tid * 2 * D;
  memset(col, 0, F * sizeof(float));
  memset(cd, 0, 2 * D * sizeof(double));
  double l0 = 0, sse = 0;
  float minpos = 1e30f;
  for (int64_t b = b0; b < b1; b++) {
    const float *p = c->P + b * F;
    float *f = c->Fm + b * F;
    float kth = c->batch ? c->kth_global : row_kth(p, F, c->k, tmp);
    float *xh = c->e + b * D;
    for (int64_t j = 0; j < D; j++) xh[j] = c->b_dec[j];
    for (int64_t i = 0; i < F; i++) {
      float v = p[i] >= kth ? p[i] : 0.0f;
      f[i] = v;
      if (v > 0.0f) {
        l0 += 1;
        col[i] = 1.0f;
        if (v < minpos) minpos = v;
        axpy_f(xh, c->W_dec + i * D, v, D);
      }
    }
    /* top_k: e = x̂ − x; batch_top_k: e = x − x̂ */
    const float *xr = c->x + b * D;
    for (int64_t j = 0; j < D; j++) {
      float v = c->batch ? xr[j] - xh[j] : xh[j] - xr[j];
      xh[j] = v;
      sse += (double)v * v;
      cd[j] += v;
    }
  }
  c->part[tid][0] = l0;
  c->part[tid][1] = sse;
  c->part[tid][2] = minpos;
}

/* AuxK: per row, the kaux largest P among dead features (live features never win: the reference
   pushes them to −1e30), and their sparse decode (+ b_dec for top_k) */
static void k_tk_aux(void *vc, int tid, int64_t b0, int64_t b1) {
  tk_ctx *c = (tk_ctx *)vc;
  const int64_t F = c->F, D = c->D;
  float *tmp = c->tmp + (size_t)tid * F;
  for (int64_t b = b0; b < b1; b++) {
    const float *p = c->P + b * F;
    int64_t nd = 0;
    for (int64_t i = 0; i < F; i++)
      if (c->dead[i] > 0.0f) tmp[nd++] = p[i];
    float kth_aux = kth_largest(tmp, nd, c->kaux);
    float *a = c->A + b * F;
    float *eh = c->eh + b * D;
    for (int64_t j = 0; j < D; j++) eh[j] = c->batch ? 0.0f : c->b_dec[j];
    for (int64_t i = 0; i < F; i++) {
      float v = (c->dead[i] > 0.0f && p[i] >= kth_aux) ? p[i] : 0.0f;
      a[i] = v;
      if (v > 0.0f) axpy_f(eh, c->W_dec + i * D, v, D);
    }
  }
}

/* the residual gradients: e ← ∂/∂x̂, eh ← ∂/∂(AuxK decode); column sums for ∂b_dec */
static void k_tk_resid(void *vc, int tid, int64_t b0, int64_t b1) {
  tk_ctx *c = (tk_ctx *)vc;
  const int64_t D = c->D;
  double *cd = c->cold + (size_t)tid * 2 * D;
  memset(cd, 0, D * sizeof(double));
  double auxs = 0;
  const float gs = (float)c->grad_scale; /* 2/B (top_k) or −2/B (batch_top_k) */
  for (int64_t b = b0; b < b1; b++) {
    float *e = c->e + b * D, *eh = c->eh + b * D;
    for (int64_t j = 0; j < D; j++) {
      float dx = e[j] * gs;
      if (c->aux && !c->batch) {
        float r = eh[j] - e[j];
        auxs += (double)r * r * c->w_D[j];
        float de = r * c->w_D[j] * (float)(2.0 * c->cc);
        dx -= de;
        eh[j] = de;
        cd[j] += dx + de;
      } else if (c->aux) {
        float r = e[j] - eh[j];
        auxs += (double)r * r;
        eh[j] = r * (float)c->denom_coef;
        cd[j] += dx;
      } else {
        cd[j] += dx;
      }
      e[j] = dx;
    }
  }
  c->part[tid][3] = auxs;
}

/* ∂/∂pre at the selected entries (dot products with the decoder rows), 0 elsewhere; column sums */
static void k_tk_dpre(void *vc, int tid, int64_t b0, int64_t b1) {
  tk_ctx *c = (tk_ctx *)vc;
  const int64_t F = c->F, D = c->D;
  float *col = c->colf + (size_t)tid * F;
  memset(col, 0, F * sizeof(float));
  for (int64_t b = b0; b < b1; b++) {
    const float *f = c->Fm + b * F;
    float *a = c->A + b * F;
    const float *e = c->e + b * D, *eh = c->eh + b * D;
    for (int64_t i = 0; i < F; i++) {
      const float *src = f[i] > 0.0f ? e : (c->aux && a[i] > 0.0f) ? eh : NULL;
      float g = src ? dot_f(src, c->W_dec + i * D, D) : 0.0f;
      a[i] = g;
      col[i] += g;
    }
  }
}

typedef struct {
  const float *v;
  int64_t n;
  uint32_t *hist; /* [T][65536] */
  float *cand;
  int64_t ncand;
  uint32_t bin;
} hist_ctx;

static void k_hist(void *vc, int tid, int64_t i0, int64_t i1) {
  hist_ctx *c = (hist_ctx *)vc;
  uint32_t *h = c->hist + (size_t)tid * 65536;
  memset(h, 0, 65536 * sizeof(uint32_t));
  for (int64_t i = i0; i < i1; i++) {
    uint32_t u;
    memcpy(&u, &c->v[i], 4);
    h[u >> 16]++;
  }
}

/* the n-th largest of v[0..len) for v ≥ 0 (ReLU outputs: their bit patterns order as the values):
   a 16-bit histogram of the high bits, then a quickselect inside the bin that holds it */
static int global_kth(const float *v, int64_t len, int64_t n, float *out) {
  const int T = n_threads();
  hist_ctx c = {v, len, (uint32_t *)malloc((size_t)T * 65536 * sizeof(uint32_t)), NULL, 0, 0};
  if (!c.hist) return 0;
  int used = par_for(len, 1 << 16, k_hist, &c);
  int64_t above = 0;
  int64_t bin = 65535;
  for (; bin >= 0; bin--) {
    int64_t cnt = 0;
    for (int t = 0; t < used; t++) cnt += c.hist[(size_t)t * 65536 + bin];
    if (above + cnt >= n) {
      c.ncand = cnt;
      break;
    }
    above += cnt;
  }
  free(c.hist);
  if (bin < 0) return 0;
  float *cand = (float *)malloc((size_t)(c.ncand > 0 ? c.ncand : 1) * sizeof(float));
  if (!cand) return 0;
  int64_t m = 0;
  for (int64_t i = 0; i < len; i++) {
    uint32_t u;
    memcpy(&u, &v[i], 4);
    if ((u >> 16) == (uint32_t)bin && m < c.ncand) cand[m++] = v[i];
  }
  if (n - above > m) { /* cannot happen with a consistent histogram; never read past cand */
    free(cand);
    return 0;
  }
  *out = kth_largest(cand, m, n - above);
  free(cand);
  return 1;
}

/*
 * topkStep(heap, offsets[13], dims[3], hyper[12], stats[10], fired: Float32Array[F],
 *          tokensSinceFired: Float64Array[F] (updated in place, as the reference does before AuxK))
 * offsets: x, W_enc, b_enc, W_dec, b_dec, then Adam (m, v) of W_enc, b_enc, W_dec, b_dec.
 * hyper: batch (0/1), k, auxKCoeff, deadThreshold, gradClip, beta1, beta2, eps, stepSize, bc2Sqrt,
 *        renormEps (top_k renormalises before the step, batch_top_k after), projectEps
 * stats out: loss, recon, auxk, l0count, sse, varX·(B−1), varE·(B−1), minPositive, nDead
 */
static const char *topk_check(const double *hyper, int64_t F) {
  const int64_t k = (int64_t)hyper[1];
  return k < 1 || k > F ? "k must be in [1, F]" : NULL;
}

static const step_spec topk_spec = {
    .name = "topkStep", .argc = 7, .n_params = 4, .shape = {P_DF, P_F, P_DF, P_D}, .n_hyper = 12, .n_stats = 10, .min_D = 2, .check_hyper = topk_check};

static napi_value TopkStep(napi_env env, napi_callback_info info) {
  step_args a;
  if (!parse_step_args(env, info, &topk_spec, &a)) return NULL;
  const int64_t B = a.B, D = a.D, F = a.F;
  const double *hyper = a.hyper;
  double *stats = a.stats, *tsf = a.tsf;
  float *fired = a.fired;
  const int batch = hyper[0] != 0.0;
  const int64_t k = (int64_t)hyper[1];
  const int T = n_threads();
  /* scratch: xc [B,D] | P, Fm, A [B,F] | e, eh [B,D] | dWenc [D,F] | dWdec [F,D] | dbenc [F] | dbdec [D] | dead [F] | tmp, colf [T,F]
     | fd1 [F,D] (the sparse backward's ∂preᵀ·xc) */
  size_t need = (size_t)B * D * 3 + (size_t)B * F * 3 + (size_t)D * F * 3 + (size_t)F * 2 + D + (size_t)T * F * 2;
  float *s;
  double *cold;
  if (!alloc_step_buffers(env, &topk_spec, need, T, D, &s, &cold)) return NULL;
  double *varD = cold + (size_t)T * 2 * D; /* [D] TotVar_d, then [D] column sums of e */
  float *W_enc = a.param[0], *b_enc = a.param[1], *W_dec = a.param[2], *b_dec = a.param[3];
  float *xc = s, *P = xc + B * D, *Fm = P + B * F, *A = Fm + B * F, *e = A + B * F, *eh = e + B * D;
  float *dWenc = eh + B * D, *dWdec = dWenc + D * F, *dbenc = dWdec + F * D, *dbdec = dbenc + F, *dead = dbdec + D;
  float *tmp = dead + F, *colf = tmp + (size_t)T * F, *fd1 = colf + (size_t)T * F;
  const int64_t rows_min = 8;
  PROFILE_START;

  if (!batch) renorm_rows(W_dec, D, F, (float)hyper[10]); /* top_k renormalises the decoder before the loss */

  center_rows(a.x, b_dec, xc, B, D, rows_min);
  gemm(NoTrans, NoTrans, B, F, D, xc, W_enc, 0.0f, P);
  TICK("gemm enc");
  tk_ctx c = {.B = B, .D = D, .F = F, .batch = batch, .k = k, .x = a.x, .W_enc = W_enc, .b_enc = b_enc, .W_dec = W_dec, .b_dec = b_dec,
              .P = P, .Fm = Fm, .A = A, .e = e, .eh = eh, .dead = dead, .tmp = tmp, .colf = colf, .cold = cold};
  par_for(B, rows_min, k_tk_relu, &c);
  if (batch) {
    int64_t n = k * B < B * F ? k * B : B * F;
    if (!global_kth(P, B * F, n, &c.kth_global)) {
      free(cold);
      return throw_err(env, "topkStep: out of memory (batch top-k selection)");
    }
  }
  TICK("relu+kth");

  /* AuxK's dead set needs this batch's fired flags (the reference updates the counts first) */
  int used = par_for(B, rows_min, k_tk_select, &c);
  double l0 = 0, sse = 0;
  float minpos = 1e30f;
  memset(fired, 0, F * sizeof(float));
  double *colE = varD + D;
  memset(colE, 0, D * sizeof(double));
  for (int i = 0; i < used; i++) {
    l0 += c.part[i][0];
    sse += c.part[i][1];
    if (c.part[i][2] < minpos) minpos = (float)c.part[i][2];
    for (int64_t q = 0; q < F; q++)
      if (colf[(size_t)i * F + q] > 0.0f) fired[q] = 1.0f;
    for (int64_t j = 0; j < D; j++) colE[j] += cold[(size_t)i * 2 * D + j];
  }
  const double thr = hyper[3];
  int64_t ndead = 0;
  for (int64_t q = 0; q < F; q++) {
    tsf[q] = fired[q] > 0.0f ? 0.0 : tsf[q] + (double)B;
    bool d = batch ? tsf[q] >= thr : tsf[q] > thr;
    dead[q] = d ? 1.0f : 0.0f;
    ndead += d;
  }
  const double coeff = hyper[2];
  const int64_t half = D / 2;
  c.kaux = half < ndead ? half : ndead;
  c.aux = coeff > 0 && ndead > 0 && c.kaux > 0;
  TICK("select+dec");

  double varx_sum = 0;
  if (!col_var(a.x, B, D, varD)) {
    free(cold);
    return throw_err(env, "topkStep: out of memory");
  }
  float *w_D = dbdec; /* dbdec is free until the end: TotVar weights for top_k's AuxK */
  for (int64_t j = 0; j < D; j++) {
    varx_sum += varD[j];
    float tv = (float)varD[j];
    w_D[j] = tv > 0.0f ? (float)(1.0 / tv) : 0.0f;
  }
  double vare = sum_var_e(sse, colE, B, D);
  double scale = 1.0;
  if (c.aux) {
    par_for(B, rows_min, k_tk_aux, &c);
    if (batch) {
      double denom = vare / (double)B;
      if (denom > 0) c.denom_coef = -2.0 / ((double)B * denom) * coeff;
      else c.aux = false; /* zero variance: nan_to_num(0), no AuxK this step */
      c.cc = denom;
    } else {
      scale = (double)ndead / (double)half < 1.0 ? (double)ndead / (double)half : 1.0;
      c.cc = coeff * scale / ((double)B * D);
    }
  }
  c.w_D = w_D;
  c.grad_scale = batch ? -2.0 / (double)B : 2.0 / (double)B;
  TICK("aux");
  used = par_for(B, rows_min, k_tk_resid, &c);
  double auxs = 0;
  double *dbd = varD; /* column sums of ∂/∂x̂ (+ ∂/∂ê) in double */
  memset(dbd, 0, D * sizeof(double));
  for (int i = 0; i < used; i++) {
    auxs += c.part[i][3];
    for (int64_t j = 0; j < D; j++) dbd[j] += cold[(size_t)i * 2 * D + j];
  }
  double auxk = 0;
  if (c.aux) auxk = batch ? (auxs / (double)B) / c.cc : scale * auxs / ((double)B * D);
  const double recon = sse / (double)B;
  stats[0] = recon + coeff * auxk;
  stats[1] = recon;
  stats[2] = auxk;
  stats[3] = l0;
  stats[4] = sse;
  stats[5] = varx_sum;
  stats[6] = vare;
  stats[7] = minpos;
  stats[8] = (double)ndead;
  stats[9] = 0;
  if (!isfinite(stats[0])) {
    free(cold);
    return NULL; /* the caller sees the non-finite loss; parameters untouched */
  }

  /* backward. Without AuxK, f and ∂/∂pre have about k of F entries per row: sparse products
     (B·k·D) instead of dense GEMMs (B·F·D) while that is the cheaper (SAEBOARD_SAE_SPARSE=0: dense) */
  const char *sp_env = getenv("SAEBOARD_SAE_SPARSE");
  const bool try_sparse = !c.aux && !(sp_env && strcmp(sp_env, "0") == 0);
  const int64_t max_nnz = B * F / 16;
  sparse_t sp;
  bool sparse = try_sparse && sparse_build(Fm, B, F, max_nnz, &sp);
  if (sparse) {
    sp_ctx sc = {&sp, e, D, dWdec};
    par_for(F, 16, k_sp_tn, &sc);
  } else {
    gemm(Trans, NoTrans, F, D, B, Fm, e, 0.0f, dWdec);
    if (c.aux) gemm(Trans, NoTrans, F, D, B, A, eh, 1.0f, dWdec);
  }
  TICK("gemm dWdec");
  if (sparse) {
    /* ∂pre has f's support (no AuxK here): on f's index, as the ReLU step (no penalty term) */
    relu_sp_ctx rc = {&sp, e, W_dec, D, F, colf, (lp_grad){.p1 = true, .k1 = 0.0f}};
    used = par_for(B, rows_min, k_sp_relu_dpre, &rc);
  } else {
    used = par_for(B, rows_min, k_tk_dpre, &c);
  }
  sum_parts(dbenc, colf, used, F, F);
  TICK("dpre");
  if (sparse) {
    sp_ctx sc = {&sp, xc, D, fd1}; /* (xcᵀ·∂pre)ᵀ = ∂preᵀ·xc [F,D] */
    par_for(F, 16, k_sp_tn, &sc);
    TICK("gemm dWenc");
    transpose(fd1, F, D, dWenc);
    sparse_free(&sp);
    TICK("xpose dWenc");
  } else {
    gemm(Trans, NoTrans, D, F, B, xc, A, 0.0f, dWenc);
    TICK("gemm dWenc");
  }
  const bool summed = centred_colsum(A, dbenc, B, F, W_enc, D, colE);
  TICK("sum dXc");
  if (summed) bdec_grad(dbd, colE, D, dbdec);
  free(cold);
  if (!summed) return throw_err(env, "topkStep: out of memory");

  /* top_k: clip, then remove the decoder-parallel part (rows unit already);
     batch_top_k: remove it (rows normalised with eps), then clip; Adam; batch_top_k renormalises */
  float *grads[4] = {dWenc, dbenc, dWdec, dbdec};
  const update_opts u = {.dec = 2, .clip = batch ? CLIP_AFTER_PROJECT : CLIP_BEFORE_PROJECT, .max_norm = hyper[4], .project_eps = (float)hyper[11],
                         .project_normalize = batch, .renorm = batch, .renorm_eps = (float)hyper[10], .adam = hyper + 5};
  update_params(&a, grads, &u);
  TICK("adam");
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* the gated (and gated-anneal) step                                                          */

/*
 * Same maths as gatedLossAndGrads in src/sae/trainers/gated.ts + ConstrainedAdam. The two
 * decodes (f and the gate path's g, whose decode is a stop-gradient copy) are one GEMM over the
 * stacked [2B, F] rows, and so are their ∂/∂f, ∂/∂g.
 */
typedef struct {
  int64_t B, D, F;
  const float *x, *b_gate, *b_mag, *b_dec, *expR;
  float *Z;  /* [B,F] z = (x − b_dec) W_enc, then ∂/∂z */
  float *FG; /* [2B,F] f over g, then ∂/∂f over ∂/∂g */
  float *XH; /* [2B,D] x̂ over x̂_aux, then their gradients */
  double lambda, p, next_p;
  float *colf;  /* [T][3F] */
  double *cold; /* [T][2D] */
  double part[64][8];
} g_ctx;

/* one row of the gated forward, branch-free so it vectorises: f, g = ReLU(π_gate), count(on), Σg */
HOT static void gate_fwd_row(const float *restrict z, const float *restrict bg, const float *restrict er, const float *restrict bm, float *restrict f,
                             float *restrict g, float *restrict col, int64_t F, float *cnt, float *sum) {
  float cn = 0, sm = 0;
  for (int64_t i = 0; i < F; i++) {
    float pg = z[i] + bg[i];
    float pm = z[i] * er[i] + bm[i];
    bool on = pg > 0.0f && pm > 0.0f;
    float fv = on ? pm : 0.0f, gv = pg > 0.0f ? pg : 0.0f;
    f[i] = fv;
    g[i] = gv;
    cn += on ? 1.0f : 0.0f;
    sm += gv;
    col[i] += fv;
  }
  *cnt = cn;
  *sum = sm;
}

/* one row of the gated backward for p = 1 (branch-free): ∂z over z, column sums */
HOT static void gate_bwd_row_p1(float *restrict z, const float *restrict bg, const float *restrict er, const float *restrict bm, const float *restrict df,
                                const float *restrict dg, float *restrict cr, float *restrict cm, float *restrict cg, int64_t F, float k1) {
  for (int64_t i = 0; i < F; i++) {
    float zv = z[i];
    float pg = zv + bg[i];
    float pm = zv * er[i] + bm[i];
    bool gate = pg > 0.0f;
    float dmag = gate && pm > 0.0f ? df[i] : 0.0f;
    float dgate = gate ? dg[i] + k1 : 0.0f;
    float dmp = dmag * er[i];
    z[i] = dgate + dmp;
    cr[i] += dmp * zv;
    cm[i] += dmag;
    cg[i] += dgate;
  }
}

/* the same for p ≠ 1 (gated-anneal): the penalty's gradient kp·π_gate^(p−1) where the gate is on
   (the power of 1 elsewhere, so the lanes stay finite), branch-free so that it vectorises */
HOT static void gate_bwd_row_p(float *restrict z, const float *restrict bg, const float *restrict er, const float *restrict bm, const float *restrict df,
                               const float *restrict dg, float *restrict cr, float *restrict cm, float *restrict cg, int64_t F, float kp, float pm1) {
  for (int64_t i = 0; i < F; i++) {
    const float zv = z[i];
    const float pg = zv + bg[i];
    const float pm = zv * er[i] + bm[i];
    const bool gate = pg > 0.0f;
    const float dmag = (gate & (pm > 0.0f)) ? df[i] : 0.0f;
    const float pen = kp * pow_pos(gate ? pg : 1.0f, pm1);
    const float dgate = gate ? dg[i] + pen : 0.0f;
    const float dmp = dmag * er[i];
    z[i] = dgate + dmp;
    cr[i] += dmp * zv;
    cm[i] += dmag;
    cg[i] += dgate;
  }
}

static void k_g_fwd(void *vc, int tid, int64_t b0, int64_t b1) {
  g_ctx *c = (g_ctx *)vc;
  const int64_t F = c->F, B = c->B;
  float *col = c->colf + (size_t)tid * 3 * F;
  memset(col, 0, F * sizeof(float));
  const bool p1 = c->p == 1.0;
  const float pf = (float)c->p, npf = (float)c->next_p;
  double l0 = 0, lp = 0, lnext = 0;
  for (int64_t b = b0; b < b1; b++) {
    const float *z = c->Z + b * F;
    float *f = c->FG + b * F, *g = c->FG + (B + b) * F;
    float cnt, sum;
    gate_fwd_row(z, c->b_gate, c->expR, c->b_mag, f, g, col, F, &cnt, &sum);
    l0 += cnt;
    add_lp_sums(g, F, sum, p1, pf, c->next_p, npf, &lp, &lnext);
  }
  c->part[tid][0] = l0;
  c->part[tid][1] = lp;
  c->part[tid][2] = lnext;
}

/* rows [0, 2B): e = x̂ + b_dec − x, then ∂/∂x̂ = 2e/B in place; Σe² per half, column sums of e
   and of ∂/∂x̂ (first half) */
static void k_g_resid(void *vc, int tid, int64_t r0, int64_t r1) {
  g_ctx *c = (g_ctx *)vc;
  const int64_t D = c->D, B = c->B;
  double *cd = c->cold + (size_t)tid * 2 * D;
  memset(cd, 0, 2 * D * sizeof(double));
  double sse = 0, sseAux = 0;
  const float k2 = (float)(2.0 / (double)B);
  for (int64_t r = r0; r < r1; r++) {
    float *row = c->XH + r * D;
    const float *xr = c->x + (r % B) * D;
    const bool main = r < B;
    double s = 0;
    for (int64_t j = 0; j < D; j++) {
      float v = row[j] + c->b_dec[j] - xr[j];
      s += (double)v * v;
      float dv = v * k2;
      row[j] = dv;
      if (main) {
        cd[j] += v;
        cd[D + j] += dv;
      }
    }
    if (main) sse += s;
    else sseAux += s;
  }
  c->part[tid][3] = sse;
  c->part[tid][4] = sseAux;
}

/* ∂/∂π_mag = ∂f ⊙ 1[on];  ∂/∂π_gate = (∂g + λ p g^{p−1}/B) ⊙ 1[π_gate > 0];
   ∂/∂z = ∂/∂π_gate + e^{r_mag} ∂/∂π_mag (over Z);  column sums for r_mag, b_mag, b_gate */
static void k_g_bwd(void *vc, int tid, int64_t b0, int64_t b1) {
  g_ctx *c = (g_ctx *)vc;
  const int64_t F = c->F, B = c->B;
  float *cr = c->colf + (size_t)tid * 3 * F, *cm = cr + F, *cg = cm + F;
  memset(cr, 0, 3 * F * sizeof(float));
  const lp_grad lg = lp_grad_of(c->lambda, c->p, B);
  for (int64_t b = b0; b < b1; b++) {
    float *z = c->Z + b * F;
    const float *df = c->FG + b * F, *dg = c->FG + (B + b) * F;
    if (lg.p1) {
      gate_bwd_row_p1(z, c->b_gate, c->expR, c->b_mag, df, dg, cr, cm, cg, F, lg.k1);
      continue;
    }
    gate_bwd_row_p(z, c->b_gate, c->expR, c->b_mag, df, dg, cr, cm, cg, F, lg.kp, lg.pm1);
  }
}

/*
 * The gated step once the gate is sparse (g = ReLU(π_gate) ≤ 1/16 nonzero, as after training;
 * f's support lies inside g's): its decodes, ∂W_dec, ∂f and ∂g where they matter and ∂W_enc work
 * on the gate's nonzeros (sparse_t over g) instead of 2B-row GEMMs.
 */
typedef struct {
  sparse_t *s; /* the gate's support, values g */
  const float *FG, *W, *Z, *b_mag, *expR; /* f over g [2B,F], W_dec [F,D], z [B,F] */
  float *XH;                              /* [2B,D] x̂ over x̂_aux, then their gradients */
  float *fcol;                            /* [nnz] f at the support's entries, column order */
  float *out;                             /* ∂W_dec [F,D] */
  float *colf;                            /* [T][3F] */
  int64_t B, D, F;
  lp_grad lg;
} g_sp_ctx;

/* x̂_b = Σ f[b,q]·W_dec[q], x̂_aux,b = Σ g[b,q]·W_dec[q] over the gate's support of row b; f's
   values also go to fcol in column order, for ∂W_dec's column walk (f read by rows there would
   miss the cache on every entry) */
static void k_g_sp_dec(void *vc, int tid, int64_t b0, int64_t b1) {
  g_sp_ctx *c = (g_sp_ctx *)vc;
  (void)tid;
  const sparse_t *s = c->s;
  const int64_t D = c->D, F = c->F;
  for (int64_t b = b0; b < b1; b++) {
    float *xh = c->XH + b * D, *xa = c->XH + (c->B + b) * D;
    memset(xh, 0, D * sizeof(float));
    memset(xa, 0, D * sizeof(float));
    for (int64_t n = s->rp[b]; n < s->rp[b + 1]; n++) {
      const int32_t q = s->ci[n];
      const float *w = c->W + (int64_t)q * D;
      const float fv = c->FG[b * F + q];
      c->fcol[s->at[n]] = fv;
      if (fv != 0.0f) axpy_f(xh, w, fv, D);
      axpy_f(xa, w, s->rv[n], D);
    }
  }
}

/* ∂W_dec = fᵀ·∂x̂ over the gate's support, by columns (the aux decode is a stop-gradient copy) */
static void k_g_sp_dwdec(void *vc, int tid, int64_t q0, int64_t q1) {
  g_sp_ctx *c = (g_sp_ctx *)vc;
  (void)tid;
  const sparse_t *s = c->s;
  const int64_t D = c->D;
  for (int64_t q = q0; q < q1; q++) {
    float *o = c->out + q * D;
    memset(o, 0, D * sizeof(float));
    for (int64_t n = s->cp[q]; n < s->cp[q + 1]; n++) {
      const float fv = c->fcol[n];
      if (fv != 0.0f) axpy_f(o, c->XH + (int64_t)s->ri[n] * D, fv, D);
    }
  }
}

/* ∂z on the gate's support, as k_g_bwd (∂f = ∂x̂·W_dec[q] where π_mag > 0, ∂g = ∂x̂_aux·W_dec[q]
   plus the penalty's gradient), stored over the CSC values at their position; column sums for
   r_mag, b_mag, b_gate */
static void k_g_sp_bwd(void *vc, int tid, int64_t b0, int64_t b1) {
  g_sp_ctx *c = (g_sp_ctx *)vc;
  sparse_t *s = c->s;
  const int64_t D = c->D, F = c->F;
  float *cr = c->colf + (size_t)tid * 3 * F, *cm = cr + F, *cg = cm + F;
  memset(cr, 0, 3 * F * sizeof(float));
  for (int64_t b = b0; b < b1; b++) {
    const float *e = c->XH + b * D, *ea = c->XH + (c->B + b) * D, *z = c->Z + b * F;
    for (int64_t n = s->rp[b]; n < s->rp[b + 1]; n++) {
      const int32_t q = s->ci[n];
      const float *w = c->W + (int64_t)q * D;
      const float zv = z[q], er = c->expR[q];
      const float dmag = zv * er + c->b_mag[q] > 0.0f ? dot_f(e, w, D) : 0.0f;
      const float pen = c->lg.p1 ? c->lg.k1 : c->lg.kp * pow_pos(s->rv[n], c->lg.pm1);
      const float dgate = dot_f(ea, w, D) + pen;
      const float dmp = dmag * er;
      s->cv[s->at[n]] = dgate + dmp;
      cr[q] += dmp * zv;
      cm[q] += dmag;
      cg[q] += dgate;
    }
  }
}

/*
 * gatedStep(heap, offsets[19], dims[3], hyper[9], stats[10], fired: Float32Array[F])
 * offsets: x, W_enc, r_mag, b_gate, b_mag, W_dec, b_dec, then Adam (m, v) of the six parameters
 * hyper: lambda, p, next_p (< 0: none), beta1, beta2, eps, stepSize, bc2Sqrt, (unused)
 * stats out: loss, recon, aux, lp, lpNext, l0count, sse, varX·(B−1), varE·(B−1), (unused)
 */
static const step_spec gated_spec = {
    .name = "gatedStep", .argc = 6, .n_params = 6, .shape = {P_DF, P_F, P_F, P_F, P_DF, P_D}, .n_hyper = 9, .n_stats = 10, .min_D = 1};

static napi_value GatedStep(napi_env env, napi_callback_info info) {
  step_args a;
  if (!parse_step_args(env, info, &gated_spec, &a)) return NULL;
  const int64_t B = a.B, D = a.D, F = a.F;
  const double *hyper = a.hyper;
  double *stats = a.stats;
  float *fired = a.fired;
  float *W_enc = a.param[0], *r_mag = a.param[1], *b_gate = a.param[2], *b_mag = a.param[3], *W_dec = a.param[4], *b_dec = a.param[5];
  const int T = n_threads();
  /* scratch: xc [B,D] | Z [B,F] | FG [2B,F] | XH [2B,D] | dWenc [D,F] | dWdec [F,D] | dr, dbg, dbm [F] | dbdec [D] | expR [F] | colf [T,3F] */
  size_t need = (size_t)B * D * 3 + (size_t)B * F * 3 + (size_t)D * F * 2 + (size_t)F * 4 + D + (size_t)T * 3 * F;
  float *s;
  double *cold;
  if (!alloc_step_buffers(env, &gated_spec, need, T, D, &s, &cold)) return NULL;
  double *varD = cold + (size_t)T * 2 * D, *colE = varD + D;
  float *xc = s, *Z = xc + B * D, *FG = Z + B * F, *XH = FG + 2 * B * F;
  float *dWenc = XH + 2 * B * D, *dWdec = dWenc + D * F, *dr = dWdec + F * D, *dbg = dr + F, *dbm = dbg + F, *dbdec = dbm + F, *expR = dbdec + D;
  float *colf = expR + F;
  for (int64_t i = 0; i < F; i++) expR[i] = expf(r_mag[i]);
  const int64_t rows_min = 8;
  PROFILE_START;

  center_rows(a.x, b_dec, xc, B, D, rows_min);
  gemm(NoTrans, NoTrans, B, F, D, xc, W_enc, 0.0f, Z);
  TICK("gemm enc");
  g_ctx c = {.B = B, .D = D, .F = F, .x = a.x, .b_gate = b_gate, .b_mag = b_mag, .b_dec = b_dec, .expR = expR, .Z = Z, .FG = FG, .XH = XH,
             .lambda = hyper[0], .p = hyper[1], .next_p = hyper[2], .colf = colf, .cold = cold};
  int used = par_for(B, rows_min, k_g_fwd, &c);
  double l0 = 0, lp = 0, lnext = 0;
  memset(fired, 0, F * sizeof(float));
  for (int i = 0; i < used; i++) {
    l0 += c.part[i][0];
    lp += c.part[i][1];
    lnext += c.part[i][2];
    for (int64_t q = 0; q < F; q++)
      if (colf[(size_t)i * 3 * F + q] > 0.0f) fired[q] = 1.0f;
  }
  TICK("gate fwd");
  /* a sparse gate (l0 counts f, whose support lies in g's, so it only rules out): the sparse path
     (SAEBOARD_SAE_SPARSE=0: dense) */
  const char *sp_env = getenv("SAEBOARD_SAE_SPARSE");
  const int64_t max_nnz = B * F / 16;
  sparse_t sp;
  bool sparse = !(sp_env && strcmp(sp_env, "0") == 0) && l0 <= (double)max_nnz && sparse_build(FG + B * F, B, F, max_nnz, &sp);
  float *fcol = sparse ? (float *)malloc((size_t)(sp.nnz > 0 ? sp.nnz : 1) * sizeof(float)) : NULL;
  if (sparse && !fcol) {
    sparse_free(&sp);
    sparse = false; /* the dense path needs no more memory */
  }
  g_sp_ctx gc = {.s = &sp, .FG = FG, .W = W_dec, .Z = Z, .b_mag = b_mag, .expR = expR, .XH = XH, .fcol = fcol, .out = dWdec, .colf = colf,
                 .B = B, .D = D, .F = F, .lg = lp_grad_of(c.lambda, c.p, B)};
  if (sparse) {
    par_for(B, rows_min, k_g_sp_dec, &gc);
    TICK("sparse dec");
  } else {
    gemm(NoTrans, NoTrans, 2 * B, D, F, FG, W_dec, 0.0f, XH);
    TICK("gemm dec");
  }
  used = par_for(2 * B, rows_min, k_g_resid, &c);
  double sse = 0, sseAux = 0, varx = 0;
  for (int i = 0; i < used; i++) {
    sse += c.part[i][3];
    sseAux += c.part[i][4];
  }
  if (!sum_residual_cols(a.x, B, D, cold, T, used, &varx)) {
    free(cold);
    if (sparse) sparse_free(&sp);
    free(fcol);
    return throw_err(env, "gatedStep: out of memory");
  }
  double *dbd = varD; /* Σ ∂/∂x̂ per column */
  double vare = sum_var_e(sse, colE, B, D);
  const double recon = sse / (double)B, aux = sseAux / (double)B;
  stats[0] = recon + c.lambda * (lp / (double)B) + aux;
  stats[1] = recon;
  stats[2] = aux;
  stats[3] = lp / (double)B;
  stats[4] = c.next_p >= 0 ? lnext / (double)B : 0;
  stats[5] = l0;
  stats[6] = sse;
  stats[7] = varx;
  stats[8] = vare;
  stats[9] = 0;
  if (!isfinite(stats[0])) {
    free(cold);
    if (sparse) sparse_free(&sp);
    free(fcol);
    return NULL; /* the caller sees the non-finite loss; parameters untouched */
  }
  TICK("resid");

  /* backward: the aux decode is a stop-gradient copy, so only f feeds ∂W_dec and ∂b_dec */
  bool summed;
  if (sparse) {
    par_for(F, 16, k_g_sp_dwdec, &gc);
    TICK("sparse dWdec");
    used = par_for(B, rows_min, k_g_sp_bwd, &gc);
    sum_parts(dr, colf, used, 3 * F, F);
    sum_parts(dbm, colf + F, used, 3 * F, F);
    sum_parts(dbg, colf + 2 * F, used, 3 * F, F);
    TICK("sparse gate bwd");
    /* ∂W_enc in Z's room (z is spent); Σ_b ∂z = ∂b_gate + e^{r_mag} ∂b_mag */
    float *gsum = (float *)malloc((size_t)F * sizeof(float));
    summed = gsum && sparse_dwenc(&sp, xc, D, F, Z, B * F, dWenc);
    if (summed) {
      for (int64_t q = 0; q < F; q++) gsum[q] = dbg[q] + expR[q] * dbm[q];
      summed = centred_colsum(NULL, gsum, B, F, W_enc, D, colE);
    }
    free(gsum);
    free(fcol);
    sparse_free(&sp);
    TICK("sparse dWenc");
  } else {
    gemm(Trans, NoTrans, F, D, B, FG, XH, 0.0f, dWdec);
    gemm(NoTrans, Trans, 2 * B, F, D, XH, W_dec, 0.0f, FG);
    TICK("gemm dec bw");
    used = par_for(B, rows_min, k_g_bwd, &c);
    sum_parts(dr, colf, used, 3 * F, F);
    sum_parts(dbm, colf + F, used, 3 * F, F);
    sum_parts(dbg, colf + 2 * F, used, 3 * F, F);
    TICK("gate bwd");
    gemm(Trans, NoTrans, D, F, B, xc, Z, 0.0f, dWenc);
    summed = centred_colsum(Z, NULL, B, F, W_enc, D, colE);
    TICK("gemm enc bw");
  }
  if (summed) bdec_grad(dbd, colE, D, dbdec);
  free(cold);
  if (!summed) return throw_err(env, "gatedStep: out of memory");

  /* ConstrainedAdam: project the decoder gradient, Adam on all six, renormalise the decoder rows */
  float *grads[6] = {dWenc, dr, dbg, dbm, dWdec, dbdec};
  const update_opts u = {.dec = 4, .clip = CLIP_NONE, .project_normalize = true, .renorm = true, .adam = hyper + 3};
  update_params(&a, grads, &u);
  TICK("adam");
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* the JumpReLU step                                                                          */

/*
 * Same maths as jumpReluLossAndGrads in src/sae/trainers/jumpRelu.ts + its transforms:
 * straight-through threshold gradients of bandwidth ε, rect(u) = 1 for −½ < u < ½ (strict).
 */
typedef struct {
  int64_t B, D, F;
  const float *x, *b_enc, *b_dec, *theta;
  float *P;  /* [B,F] pre, then ∂/∂pre */
  float *Fm; /* [B,F] f, then ∂/∂f */
  float *XH; /* [B,D] x̂, then ∂/∂x̂ */
  float bw;
  float *colf;  /* [T][3F] */
  double *cold; /* [T][2D] */
  double part[64][8];
} jr_ctx;



/* f = pre ⊙ 1[pre > θ]; counts: f ≠ 0, f > θ (the L0 in the loss); column sums of f (fired)
   and of rect((f − θ)/ε) (the L0 step function's θ gradient) */
/* one row of the forward, branch-free so that it vectorises; counts per row in float (exact: F < 2^24) */
HOT static void jr_fwd_row(float *restrict p, const float *restrict b_enc, const float *restrict theta, float *restrict f, float *restrict cf,
                           float *restrict cs, int64_t F, float bw, float *nz, float *l0) {
  float n = 0, l = 0;
#pragma omp simd reduction(+ : n, l)
  for (int64_t i = 0; i < F; i++) {
    const float pre = p[i] + b_enc[i];
    p[i] = pre;
    const float fv = pre - theta[i] > 0.0f ? pre : 0.0f;
    f[i] = fv;
    const float fmt = fv - theta[i];
    n += fv != 0.0f ? 1.0f : 0.0f;
    l += fmt > 0.0f ? 1.0f : 0.0f;
    cf[i] += fv;
    cs[i] += rect(fmt / bw) ? 1.0f : 0.0f;
  }
  *nz = n;
  *l0 = l;
}

static void k_jr_fwd(void *vc, int tid, int64_t b0, int64_t b1) {
  jr_ctx *c = (jr_ctx *)vc;
  const int64_t F = c->F;
  float *cf = c->colf + (size_t)tid * 3 * F, *cs = cf + F;
  memset(cf, 0, 2 * F * sizeof(float));
  double nz = 0, l0 = 0;
  for (int64_t b = b0; b < b1; b++) {
    float n, l;
    jr_fwd_row(c->P + b * F, c->b_enc, c->theta, c->Fm + b * F, cf, cs, F, c->bw, &n, &l);
    nz += n;
    l0 += l;
  }
  c->part[tid][0] = nz;
  c->part[tid][1] = l0;
}

/* e = x − x̂ − b_dec, then ∂/∂x̂ = −2e/B in place; Σe², column sums of e and of ∂/∂x̂ */
static void k_jr_resid(void *vc, int tid, int64_t b0, int64_t b1) {
  jr_ctx *c = (jr_ctx *)vc;
  const int64_t D = c->D;
  double *cd = c->cold + (size_t)tid * 2 * D;
  memset(cd, 0, 2 * D * sizeof(double));
  double sse = 0;
  const float k2 = (float)(-2.0 / (double)c->B);
  for (int64_t b = b0; b < b1; b++) {
    float *row = c->XH + b * D;
    const float *xr = c->x + b * D;
    for (int64_t j = 0; j < D; j++) {
      float v = xr[j] - (row[j] + c->b_dec[j]);
      sse += (double)v * v;
      cd[j] += v;
      float dv = v * k2;
      row[j] = dv;
      cd[D + j] += dv;
    }
  }
  c->part[tid][2] = sse;
}

/* ∂/∂pre = ∂f ⊙ 1[pre > θ] (over P); column sums of ∂/∂pre and of rect((pre − θ)/ε) ∂f */
HOT static void jr_bwd_row(float *restrict p, const float *restrict theta, const float *restrict df, float *restrict cb, float *restrict ct, int64_t F,
                           float bw) {
  for (int64_t i = 0; i < F; i++) {
    const float pmt = p[i] - theta[i];
    const float g = pmt > 0.0f ? df[i] : 0.0f;
    ct[i] += rect(pmt / bw) ? df[i] : 0.0f;
    p[i] = g;
    cb[i] += g;
  }
}

static void k_jr_bwd(void *vc, int tid, int64_t b0, int64_t b1) {
  jr_ctx *c = (jr_ctx *)vc;
  const int64_t F = c->F;
  float *cb = c->colf + (size_t)tid * 3 * F, *ct = cb + F;
  memset(cb, 0, 2 * F * sizeof(float));
  for (int64_t b = b0; b < b1; b++) jr_bwd_row(c->P + b * F, c->theta, c->Fm + b * F, cb, ct, F, c->bw);
}

/* the sparse backward: on the index of f's nonzeros and θ's windows, ∂f = ∂x̂_b·W_dec[q];
   ∂pre = ∂f ⊙ 1[pre > θ] stored over the CSC values at their position; column sums of ∂pre and of
   rect((pre − θ)/ε) ∂f, as k_jr_bwd */
typedef struct {
  sparse_t *s;
  const float *P, *XH, *W, *theta; /* pre [B,F], ∂x̂ [B,D], W_dec [F,D] */
  float *colf;                     /* [T][3F] */
  int64_t D, F;
  float bw;
} jr_sp_ctx;

static void k_jr_sp_bwd(void *vc, int tid, int64_t b0, int64_t b1) {
  jr_sp_ctx *c = (jr_sp_ctx *)vc;
  sparse_t *s = c->s;
  const int64_t D = c->D, F = c->F;
  float *cb = c->colf + (size_t)tid * 3 * F, *ct = cb + F;
  memset(cb, 0, 2 * F * sizeof(float));
  for (int64_t b = b0; b < b1; b++) {
    const float *e = c->XH + b * D, *pre = c->P + b * F;
    for (int64_t n = s->rp[b]; n < s->rp[b + 1]; n++) {
      const int32_t q = s->ci[n];
      const float df = dot_f(e, c->W + (int64_t)q * D, D);
      const float pmt = pre[q] - c->theta[q];
      const float g = pmt > 0.0f ? df : 0.0f;
      if (rect(pmt / c->bw)) ct[q] += df;
      s->cv[s->at[n]] = g;
      cb[q] += g;
    }
  }
}

/*
 * jumpReluStep(heap, offsets[16], dims[3], hyper[13], stats[8], fired: Float32Array[F])
 * offsets: x, W_enc, b_enc, W_dec, b_dec, threshold, then Adam (m, v) of the five parameters
 * hyper: applyBDecToInput, bandwidth, coeff, targetL0, sparsityScale, gradClip, beta1, beta2, eps,
 *        stepSize, bc2Sqrt, renormEps, projectEps
 * stats out: loss, recon, sparsity, l0Step, nonzeroCount, sse, varX·(B−1), varE·(B−1)
 */
static const char *jump_relu_check(const double *hyper, int64_t F) {
  return !(hyper[1] > 0) || !(hyper[3] > 0) ? "bandwidth and targetL0 must be > 0" : NULL;
}

static const step_spec jump_relu_spec = {
    .name = "jumpReluStep", .argc = 6, .n_params = 5, .shape = {P_DF, P_F, P_DF, P_D, P_F}, .n_hyper = 13, .n_stats = 8, .min_D = 1, .check_hyper = jump_relu_check};

static napi_value JumpReluStep(napi_env env, napi_callback_info info) {
  step_args a;
  if (!parse_step_args(env, info, &jump_relu_spec, &a)) return NULL;
  const int64_t B = a.B, D = a.D, F = a.F;
  const double *hyper = a.hyper;
  double *stats = a.stats;
  float *fired = a.fired;
  float *W_enc = a.param[0], *b_enc = a.param[1], *W_dec = a.param[2], *b_dec = a.param[3], *theta = a.param[4];
  const bool center = hyper[0] != 0.0;
  const int T = n_threads();
  /* scratch: xc [B,D] | P, Fm [B,F] | XH [B,D] | dWenc [D,F] | dWdec [F,D] | dbenc, dth [F] | dbdec [D] | colf [T,3F] */
  size_t need = (size_t)B * D * 2 + (size_t)B * F * 2 + (size_t)D * F * 2 + (size_t)F * 2 + D + (size_t)T * 3 * F;
  float *s;
  double *cold;
  if (!alloc_step_buffers(env, &jump_relu_spec, need, T, D, &s, &cold)) return NULL;
  double *varD = cold + (size_t)T * 2 * D, *colE = varD + D;
  float *xc = s, *P = xc + B * D, *Fm = P + B * F, *XH = Fm + B * F;
  float *dWenc = XH + B * D, *dWdec = dWenc + D * F, *dbenc = dWdec + F * D, *dth = dbenc + F, *dbdec = dth + F, *colf = dbdec + D;
  const int64_t rows_min = 8;
  PROFILE_START;

  const float *xin = a.x;
  if (center) {
    center_rows(a.x, b_dec, xc, B, D, rows_min);
    xin = xc;
  }
  gemm(NoTrans, NoTrans, B, F, D, xin, W_enc, 0.0f, P);
  TICK("gemm enc");
  jr_ctx c = {.B = B, .D = D, .F = F, .x = a.x, .b_enc = b_enc, .b_dec = b_dec, .theta = theta, .P = P, .Fm = Fm, .XH = XH,
              .bw = (float)hyper[1], .colf = colf, .cold = cold};
  int used = par_for(B, rows_min, k_jr_fwd, &c);
  double nz = 0, l0c = 0;
  for (int i = 0; i < used; i++) {
    nz += c.part[i][0];
    l0c += c.part[i][1];
  }
  sum_parts(fired, colf, used, 3 * F, F);
  sum_parts(dth, colf + F, used, 3 * F, F); /* Σ_b rect((f − θ)/ε) until the end */
  for (int64_t q = 0; q < F; q++) fired[q] = fired[q] > 0.0f ? 1.0f : 0.0f;
  TICK("fwd");
  /* a sparse f (nz counted f's nonzeros; the window entries come on top): the decoder side on the
     index of f's nonzeros and θ's rect windows (SAEBOARD_SAE_SPARSE=0: dense) */
  const char *sp_env = getenv("SAEBOARD_SAE_SPARSE");
  const int64_t max_nnz = B * F / 16;
  sparse_t sp;
  const bool sparse = !(sp_env && strcmp(sp_env, "0") == 0) && nz <= (double)max_nnz && sparse_build_window(P, Fm, theta, c.bw, B, F, max_nnz, &sp);
  if (sparse) {
    sp_ctx sr = {&sp, W_dec, D, XH};
    par_for(B, rows_min, k_sp_rows, &sr);
    TICK("sparse dec");
  } else {
    gemm(NoTrans, NoTrans, B, D, F, Fm, W_dec, 0.0f, XH);
    TICK("gemm dec");
  }
  used = par_for(B, rows_min, k_jr_resid, &c);
  double sse = 0, varx = 0;
  for (int i = 0; i < used; i++) sse += c.part[i][2];
  if (!sum_residual_cols(a.x, B, D, cold, T, used, &varx)) {
    free(cold);
    if (sparse) sparse_free(&sp);
    return throw_err(env, "jumpReluStep: out of memory");
  }
  double *dbd = varD; /* Σ ∂/∂x̂ per column */
  double vare = sum_var_e(sse, colE, B, D);
  const double coeff = hyper[2], target = hyper[3], sscale = hyper[4];
  const double l0 = l0c / (double)B, dev = l0 / target - 1.0;
  const double recon = sse / (double)B, sparsity = dev * dev * coeff * sscale;
  stats[0] = recon + sparsity;
  stats[1] = recon;
  stats[2] = sparsity;
  stats[3] = l0;
  stats[4] = nz;
  stats[5] = sse;
  stats[6] = varx;
  stats[7] = vare;
  if (!isfinite(stats[0])) {
    free(cold);
    if (sparse) sparse_free(&sp);
    return NULL; /* the caller sees the non-finite loss; parameters untouched */
  }

  /* backward */
  if (sparse) {
    sp_ctx sc = {&sp, XH, D, dWdec};
    par_for(F, 16, k_sp_tn, &sc);
    TICK("sparse dWdec");
    jr_sp_ctx jc = {&sp, P, XH, W_dec, theta, colf, D, F, c.bw};
    used = par_for(B, rows_min, k_jr_sp_bwd, &jc);
    TICK("sparse bwd");
  } else {
    gemm(Trans, NoTrans, F, D, B, Fm, XH, 0.0f, dWdec);
    gemm(NoTrans, Trans, B, F, D, XH, W_dec, 0.0f, Fm);
    TICK("gemm dec bw");
    used = par_for(B, rows_min, k_jr_bwd, &c);
  }
  const float gl0 = (float)(dev * (2.0 * coeff * sscale) / target / (double)B);
  const float step_coef = gl0 * (float)(-1.0 / hyper[1]);
  sum_parts(dbenc, colf, used, 3 * F, F);
  for (int64_t q = 0; q < F; q++) {
    float jsum = 0;
    for (int i = 0; i < used; i++) jsum += colf[(size_t)i * 3 * F + F + q];
    dth[q] = jsum * (theta[q] / (float)(-hyper[1])) + dth[q] * step_coef;
  }
  bool summed = true;
  if (sparse) {
    /* in Fm's room (f is spent) */
    summed = sparse_dwenc(&sp, xin, D, F, Fm, B * F, dWenc);
    sparse_free(&sp);
    TICK("sparse dWenc");
  } else {
    gemm(Trans, NoTrans, D, F, B, xin, P, 0.0f, dWenc);
  }
  summed = summed && (!center || centred_colsum(NULL, dbenc, B, F, W_enc, D, colE));
  if (summed) bdec_grad(dbd, center ? colE : NULL, D, dbdec);
  free(cold);
  if (!summed) return throw_err(env, "jumpReluStep: out of memory");
  TICK("gemm enc bw");

  /* remove the decoder-parallel gradient, clip the global norm, Adam, renormalise decoder rows */
  float *grads[5] = {dWenc, dbenc, dWdec, dbdec, dth};
  const update_opts u = {.dec = 2, .clip = CLIP_AFTER_PROJECT, .max_norm = hyper[5], .project_eps = (float)hyper[12],
                         .project_normalize = true, .renorm = true, .renorm_eps = (float)hyper[11], .adam = hyper + 6};
  update_params(&a, grads, &u);
  TICK("adam");
  return NULL;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t n = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1 || n > 64) return throw_err(env, "setThreads: expected an integer in [1, 64]");
  g_threads = n;
  saeboard_own_set_threads(n);
  return NULL;
}

/* profile(on): true resets and starts the phase timers; false stops them and returns
   { phases: {name: ms}, kinds: {gemm, elementwise, adam, copy} } summed since */
static napi_value Profile(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool on = false;
  if (argc < 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok) return throw_err(env, "profile: expected a boolean");
  napi_value out, phases, kinds, v;
  if (napi_create_object(env, &out) != napi_ok || napi_create_object(env, &phases) != napi_ok || napi_create_object(env, &kinds) != napi_ok)
    return NULL;
  double kind_ms[4] = {0, 0, 0, 0};
  const char *kind_name[4] = {"gemm", "elementwise", "adam", "copy"};
  for (int i = 0; i < g_nphase; i++) {
    const char *n = g_phase[i].name;
    int k = strncmp(n, "gemm", 4) == 0 ? 0 : strcmp(n, "adam") == 0 ? 2 : strcmp(n, "center") == 0 ? 3 : 1;
    kind_ms[k] += g_phase[i].ms;
    napi_create_double(env, g_phase[i].ms, &v);
    napi_set_named_property(env, phases, n, v);
  }
  for (int k = 0; k < 4; k++) {
    napi_create_double(env, kind_ms[k], &v);
    napi_set_named_property(env, kinds, kind_name[k], v);
  }
  napi_set_named_property(env, out, "phases", phases);
  napi_set_named_property(env, out, "kinds", kinds);
  g_nphase = 0;
  g_prof_on = on;
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"reluStep", NULL, ReluStep, NULL, NULL, NULL, napi_default, NULL},
      {"topkMask", NULL, TopkMask, NULL, NULL, NULL, napi_default, NULL},
      {"topkStep", NULL, TopkStep, NULL, NULL, NULL, napi_default, NULL},
      {"gatedStep", NULL, GatedStep, NULL, NULL, NULL, napi_default, NULL},
      {"jumpReluStep", NULL, JumpReluStep, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
      {"profile", NULL, Profile, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
