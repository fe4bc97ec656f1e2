/*
 * saeboard_sae: one fused native training step for the ReLU SAE (standard L1 and p-annealing
 * Lp^p trainers, trainers.md §2 and §5), working in place on tensors that live in the tfjs wasm
 * heap (or any ArrayBuffer): forward, hand-written backward, ConstrainedAdam.
 *
 * It is the same computation as src/compute/sae/trainers/standard.ts (the pure-tfjs reference,
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
#define TICK(name) do { if (prof) { double t_ = now_ms(); fprintf(stderr, "%-12s %8.1f ms\n", name, t_ - t_prev); t_prev = t_; } } while (0)

extern void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc);
enum { RowMajor = 101, NoTrans = 111, Trans = 112 };

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

static float *get_scratch(size_t n) {
  if (n > scratch_len) {
    free(scratch);
    scratch = (float *)malloc(n * sizeof(float));
    scratch_len = scratch ? n : 0;
  }
  return scratch;
}

/* ------------------------------------------------------------------------------------------ */
/* the step                                                                                   */

typedef struct {
  int64_t B, D, F;
  const float *x;
  float *W_enc, *b_enc, *W_dec, *b_dec;
  float *xc, *f, *d, *e, *dxc; /* scratch: f holds f, then dF → dPre in d */
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
    if (p1) lp += sum;
    if (!p1 || c->next_p >= 0) {
      float a = 0, n = 0;
      for (int64_t i = 0; i < F; i++) {
        float v = row[i];
        if (v > 0.0f) {
          if (!p1) a += powf(v, pf);
          if (c->next_p >= 0) n += powf(v, npf);
        }
      }
      if (!p1) lp += a;
      lnext += n;
    }
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

/* dPre = f > 0 ? dF + λ p f^{p−1} / B : 0 (in place over dF); column sums of dPre */
HOT static void masked_row_p1(const float *restrict fr, float *restrict dr, float *restrict col, int64_t F, float k1) {
  for (int64_t i = 0; i < F; i++) {
    float g = fr[i] > 0.0f ? dr[i] + k1 : 0.0f;
    dr[i] = g;
    col[i] += g;
  }
}

static void k_masked_grad(void *vc, int tid, int64_t b0, int64_t b1) {
  step_ctx *c = (step_ctx *)vc;
  const int64_t F = c->F;
  float *col = c->colf + (size_t)tid * F;
  memset(col, 0, F * sizeof(float));
  const bool p1 = c->p == 1.0;
  const float k1 = (float)(c->lambda / (double)c->B);
  const float kp = (float)(c->lambda * c->p / (double)c->B);
  const float pm1 = (float)(c->p - 1.0);
  for (int64_t b = b0; b < b1; b++) {
    const float *fr = c->f + b * F;
    float *dr = c->d + b * F;
    if (p1) {
      masked_row_p1(fr, dr, col, F, k1);
      continue;
    }
    for (int64_t i = 0; i < F; i++) {
      float fv = fr[i];
      float g = fv > 0.0f ? dr[i] + kp * powf(fv, pm1) : 0.0f; /* powf only where f > 0: never inf·0 */
      dr[i] = g;
      col[i] += g;
    }
  }
}

static void k_colsum_d(void *vc, int tid, int64_t b0, int64_t b1) {
  step_ctx *c = (step_ctx *)vc;
  const int64_t D = c->D;
  float *col = c->cold + (size_t)tid * 2 * D;
  memset(col, 0, D * sizeof(float));
  for (int64_t b = b0; b < b1; b++)
    for (int64_t j = 0; j < D; j++) col[j] += c->dxc[b * D + j];
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

typedef struct {
  float *W, *G;
  int64_t D;
} rows_ctx;

/* ConstrainedAdam before the step: g_j ← g_j − (g_j·u_j) u_j with u_j = w_j/‖w_j‖ */
static void k_project(void *vc, int tid, int64_t r0, int64_t r1) {
  rows_ctx *c = (rows_ctx *)vc;
  (void)tid;
  for (int64_t r = r0; r < r1; r++) {
    float *w = c->W + r * c->D, *g = c->G + r * c->D;
    double nn = 0;
    for (int64_t j = 0; j < c->D; j++) nn += (double)w[j] * w[j];
    float n = (float)sqrt(nn);
    double dot = 0;
    for (int64_t j = 0; j < c->D; j++) dot += (double)g[j] * (w[j] / n);
    float df = (float)dot;
    for (int64_t j = 0; j < c->D; j++) g[j] -= df * (w[j] / n);
  }
}

/* ... and after: w_j ← w_j / ‖w_j‖ */
static void k_renorm(void *vc, int tid, int64_t r0, int64_t r1) {
  rows_ctx *c = (rows_ctx *)vc;
  (void)tid;
  for (int64_t r = r0; r < r1; r++) {
    float *w = c->W + r * c->D;
    double nn = 0;
    for (int64_t j = 0; j < c->D; j++) nn += (double)w[j] * w[j];
    float n = (float)sqrt(nn);
    for (int64_t j = 0; j < c->D; j++) w[j] /= n;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* N-API                                                                                      */

static napi_value throw_err(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static int get_f64s(napi_env env, napi_value v, size_t want, double **out) {
  bool is_ta = false;
  napi_typedarray_type type;
  size_t len = 0, off = 0;
  void *data = NULL;
  napi_value ab;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  if (napi_get_typedarray_info(env, v, &type, &len, &data, &ab, &off) != napi_ok || type != napi_float64_array || len < want) return 0;
  *out = (double *)data;
  return 1;
}

static int get_f32s(napi_env env, napi_value v, size_t want, float **out) {
  bool is_ta = false;
  napi_typedarray_type type;
  size_t len = 0, off = 0;
  void *data = NULL;
  napi_value ab;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  if (napi_get_typedarray_info(env, v, &type, &len, &data, &ab, &off) != napi_ok || type != napi_float32_array || len < want) return 0;
  *out = (float *)data;
  return 1;
}

/*
 * reluStep(heap: ArrayBuffer, offsets: Float64Array[13], dims: Float64Array[3],
 *          hyper: Float64Array[9], stats: Float64Array[8], fired: Float32Array[F])
 * offsets (float32 elements into heap): x, W_enc, b_enc, W_dec, b_dec, then Adam (m, v) for
 *   W_enc, b_enc, W_dec, b_dec.
 * hyper: lambda, p, next_p (< 0: none), beta1, beta2, eps, stepSize (lr / (1 − β1^t)), bc2Sqrt, (unused)
 * stats out: loss, recon, lp, lpNext, l0count, sse, varX·(B−1), varE·(B−1)
 */
static napi_value ReluStep(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6) return throw_err(env, "reluStep: expected 6 arguments");
  void *heap = NULL;
  size_t heap_bytes = 0;
  if (napi_get_arraybuffer_info(env, argv[0], &heap, &heap_bytes) != napi_ok) return throw_err(env, "reluStep: heap must be an ArrayBuffer");
  double *off, *dims, *hyper, *stats;
  if (!get_f64s(env, argv[1], 13, &off) || !get_f64s(env, argv[2], 3, &dims) || !get_f64s(env, argv[3], 9, &hyper) || !get_f64s(env, argv[4], 8, &stats))
    return throw_err(env, "reluStep: offsets[13], dims[3], hyper[9], stats[8] must be Float64Arrays");
  const int64_t B = (int64_t)dims[0], D = (int64_t)dims[1], F = (int64_t)dims[2];
  if (B < 2 || D < 1 || F < 1) return throw_err(env, "reluStep: bad dims");
  float *fired;
  if (!get_f32s(env, argv[5], (size_t)F, &fired)) return throw_err(env, "reluStep: fired must be a Float32Array of length F");
  const size_t sizes[13] = {B * D, D * F, F, F * D, D, D * F, D * F, F, F, F * D, F * D, D, D};
  float *t[13];
  for (int i = 0; i < 13; i++) {
    int64_t o = (int64_t)off[i];
    if (off[i] < 0 || (double)o != off[i] || (size_t)(o + (int64_t)sizes[i]) * 4 > heap_bytes) return throw_err(env, "reluStep: a tensor lies outside the heap");
    t[i] = (float *)heap + o;
  }
  const int T = n_threads();
  /* scratch: xc [B,D] | f [B,F] | d [B,F] | e [B,D] | dxc [B,D] | grads dWenc [D,F], dWdec [F,D], dbenc [F], dbdec [D] | colf [T,F] | cold [T,2D] */
  size_t need = (size_t)B * D * 3 + (size_t)B * F * 2 + (size_t)D * F * 2 + F + D + (size_t)T * F + (size_t)T * 2 * D;
  float *s = get_scratch(need);
  if (!s) return throw_err(env, "reluStep: out of memory for scratch buffers");
  step_ctx c;
  memset(&c, 0, sizeof c);
  c.B = B;
  c.D = D;
  c.F = F;
  c.x = t[0];
  c.W_enc = t[1];
  c.b_enc = t[2];
  c.W_dec = t[3];
  c.b_dec = t[4];
  c.lambda = hyper[0];
  c.p = hyper[1];
  c.next_p = hyper[2];
  c.xc = s;
  c.f = c.xc + B * D;
  c.d = c.f + B * F;
  c.e = c.d + B * F;
  c.dxc = c.e + B * D;
  float *dWenc = c.dxc + B * D, *dWdec = dWenc + D * F, *dbenc = dWdec + F * D, *dbdec = dbenc + F;
  c.colf = dbdec + D;
  c.cold = c.colf + (size_t)T * F;
  const int64_t rows_min = 16;

  const bool prof = getenv("SAEBOARD_SAE_PROFILE") != NULL;
  double t_prev = now_ms();
  /* forward */
  int used = par_for(B, rows_min, k_center, &c);
  TICK("center");
  (void)used;
  cblas_sgemm(RowMajor, NoTrans, NoTrans, (int)B, (int)F, (int)D, 1.0f, c.xc, (int)D, c.W_enc, (int)F, 0.0f, c.f, (int)F);
  TICK("gemm enc");
  used = par_for(B, rows_min, k_relu_stats, &c);
  TICK("relu+stats");
  double l0 = 0, lp = 0, lnext = 0;
  memset(fired, 0, F * sizeof(float));
  for (int i = 0; i < used; i++) {
    l0 += c.part[i][0];
    lp += c.part[i][1];
    lnext += c.part[i][2];
    for (int64_t k = 0; k < F; k++) fired[k] += c.colf[(size_t)i * F + k];
  }
  for (int64_t k = 0; k < F; k++) fired[k] = fired[k] > 0.0f ? 1.0f : 0.0f;
  TICK("reduce f");
  cblas_sgemm(RowMajor, NoTrans, NoTrans, (int)B, (int)D, (int)F, 1.0f, c.f, (int)F, c.W_dec, (int)D, 0.0f, c.e, (int)D);
  TICK("gemm dec");
  /* FVE needs Var(x): column sums of x and x² (double) */
  double varx = 0;
  {
    double *mx = (double *)calloc((size_t)D * 2, sizeof(double));
    if (!mx) return throw_err(env, "reluStep: out of memory");
    for (int64_t b = 0; b < B; b++)
      for (int64_t j = 0; j < D; j++) {
        double v = c.x[b * D + j];
        mx[j] += v;
        mx[D + j] += v * v;
      }
    for (int64_t j = 0; j < D; j++) varx += mx[D + j] - mx[j] * mx[j] / (double)B;
    free(mx);
  }
  used = par_for(B, rows_min, k_residual, &c);
  double rsum = 0, sse = 0;
  memset(dbdec, 0, D * sizeof(float));
  double *colE = (double *)calloc((size_t)D, sizeof(double));
  if (!colE) return throw_err(env, "reluStep: out of memory");
  for (int i = 0; i < used; i++) {
    rsum += c.part[i][3];
    sse += c.part[i][4];
    for (int64_t j = 0; j < D; j++) {
      colE[j] += c.cold[(size_t)i * 2 * D + j];
      dbdec[j] += c.cold[(size_t)i * 2 * D + D + j];
    }
  }
  double vare = sse;
  for (int64_t j = 0; j < D; j++) vare -= colE[j] * colE[j] / (double)B;
  free(colE);

  /* backward: c.e now holds ∂/∂x̂ */
  TICK("residual");
  cblas_sgemm(RowMajor, Trans, NoTrans, (int)F, (int)D, (int)B, 1.0f, c.f, (int)F, c.e, (int)D, 0.0f, dWdec, (int)D);
  TICK("gemm dWdec");
  cblas_sgemm(RowMajor, NoTrans, Trans, (int)B, (int)F, (int)D, 1.0f, c.e, (int)D, c.W_dec, (int)D, 0.0f, c.d, (int)F);
  TICK("gemm dF");
  used = par_for(B, rows_min, k_masked_grad, &c);
  TICK("masked grad");
  memset(dbenc, 0, F * sizeof(float));
  for (int i = 0; i < used; i++)
    for (int64_t k = 0; k < F; k++) dbenc[k] += c.colf[(size_t)i * F + k];
  cblas_sgemm(RowMajor, Trans, NoTrans, (int)D, (int)F, (int)B, 1.0f, c.xc, (int)D, c.d, (int)F, 0.0f, dWenc, (int)F);
  TICK("gemm dWenc");
  cblas_sgemm(RowMajor, NoTrans, Trans, (int)B, (int)D, (int)F, 1.0f, c.d, (int)F, c.W_enc, (int)F, 0.0f, c.dxc, (int)D);
  TICK("gemm dXc");
  used = par_for(B, rows_min, k_colsum_d, &c);
  for (int i = 0; i < used; i++)
    for (int64_t j = 0; j < D; j++) dbdec[j] -= c.cold[(size_t)i * 2 * D + j];

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
  rows_ctx rc = {t[3], dWdec, D};
  par_for(F, 64, k_project, &rc);
  const float b1 = (float)hyper[3], b2 = (float)hyper[4];
  adam_ctx a = {NULL, NULL, NULL, NULL, b1, (float)(1.0 - hyper[3]), b2, (float)(1.0 - hyper[4]), (float)hyper[5], (float)hyper[6], (float)hyper[7], hyper[3] == 0.0};
  float *params[4] = {t[1], t[2], t[3], t[4]};
  float *grads[4] = {dWenc, dbenc, dWdec, dbdec};
  const int64_t n[4] = {D * F, F, F * D, D};
  for (int i = 0; i < 4; i++) {
    a.p = params[i];
    a.g = grads[i];
    a.m = t[5 + 2 * i];
    a.v = t[6 + 2 * i];
    par_for(n[i], 65536, k_adam, &a);
  }
  par_for(F, 64, k_renorm, &rc);
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

static void k_topk_mask(void *vc, int tid, int64_t r0, int64_t r1) {
  topk_ctx *c = (topk_ctx *)vc;
  float *tmp = c->scratch + (size_t)tid * c->cols;
  for (int64_t r = r0; r < r1; r++) {
    const float *row = c->v + r * c->cols;
    float kth;
    if (c->k * 8 <= c->cols) {
      kth = kth_largest_heap(row, c->cols, c->k, tmp);
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

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t n = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1 || n > 64) return throw_err(env, "setThreads: expected an integer in [1, 64]");
  g_threads = n;
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"reluStep", NULL, ReluStep, NULL, NULL, NULL, napi_default, NULL},
      {"topkMask", NULL, TopkMask, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
