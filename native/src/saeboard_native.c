/*
 * saeboard's native compute kernels: a small N-API addon over the system OpenBLAS.
 *
 * The TypeScript side (src/tensor/kernels/) registers these as tfjs kernels for the wasm backend.
 * Every function reads and writes float32 data in place inside caller-owned memory: the wasm heap
 * (an ArrayBuffer) or a Float32Array. Offsets are in float elements from the start of that memory.
 *
 * Safety: every shape, offset and buffer length is validated here and a JS exception is thrown on
 * bad input, so a wrong call from JS can never read or write outside the memory it passed in.
 *
 * We declare the few OpenBLAS symbols we use ourselves instead of including cblas.h: Debian's
 * cblas.h is an "alternatives" link that may point at another BLAS without the openblas_* API.
 */
#define _GNU_SOURCE
#include <node_api.h>

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- OpenBLAS ABI (LP64 build, as shipped by Debian libopenblas0-pthread) ---- */
enum { CblasRowMajor = 101 };
enum { CblasNoTrans = 111, CblasTrans = 112 };
extern void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha,
                        const float *A, int lda, const float *B, int ldb, float beta, float *C,
                        int ldc);
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);
extern int openblas_get_num_procs(void);
extern char *openblas_get_config(void);
extern char *openblas_get_corename(void);
extern int openblas_get_parallel(void);

/* Threads used by our own elementwise kernels (GEMM threading is OpenBLAS's). */
static int g_threads = 1;

#define MAX_INDEX 9007199254740991.0 /* 2^53 - 1: largest exactly representable integer */

/* ------------------------------------------------------------------------------------------ */
/* Argument helpers: each returns 0 on success, or throws a JS error and returns -1.          */
/* ------------------------------------------------------------------------------------------ */

/* after a failed N-API call: throws its error unless an exception is pending already */
static void throw_last_error(napi_env env) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, NULL, info && info->error_message ? info->error_message : "saeboard_native: N-API error");
}

#define NAPI_TRY(call)          \
  do {                          \
    if ((call) != napi_ok) {    \
      throw_last_error(env);    \
      return NULL;              \
    }                           \
  } while (0)

/* throws a printf-formatted error with `thrower` (napi_throw_range_error, napi_throw_type_error); NULL,
   for `return throw_range(...)` */
static napi_value throw_formatted(napi_env env, napi_status (*thrower)(napi_env, const char *, const char *), const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static napi_value throw_formatted(napi_env env, napi_status (*thrower)(napi_env, const char *, const char *), const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  thrower(env, NULL, msg);
  return NULL;
}
#define throw_range(env, ...) throw_formatted(env, napi_throw_range_error, __VA_ARGS__)
#define throw_type(env, ...) throw_formatted(env, napi_throw_type_error, __VA_ARGS__)

/* exactly n arguments into argv[n], else throws "<name>: expected n arguments, got m" */
static int get_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *name) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_last_error(env);
    return -1;
  }
  if (argc != n) {
    throw_type(env, "%s: expected %zu arguments, got %zu", name, n, argc);
    return -1;
  }
  return 0;
}

/* A float32 view on caller memory. */
typedef struct {
  float *data;
  size_t len; /* in floats */
} fbuf;

/* 1 with v's data and length when v is a typed array of type `want`, 0 when it is not; -1 when N-API fails */
static int get_typed_array(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok) return -1;
  if (!is_ta) return 0;
  napi_typedarray_type type;
  size_t byte_offset = 0;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, length, data, &ab, &byte_offset) != napi_ok) return -1;
  return type == want;
}

/* Accepts an ArrayBuffer (e.g. the wasm heap) or a Float32Array. */
static int get_fbuf(napi_env env, napi_value v, const char *what, fbuf *out) {
  bool is_ab = false;
  if (napi_is_arraybuffer(env, v, &is_ab) != napi_ok) return -1;
  if (is_ab) {
    void *data = NULL;
    size_t bytes = 0;
    if (napi_get_arraybuffer_info(env, v, &data, &bytes) != napi_ok) return -1;
    if (((uintptr_t)data & 3u) != 0) {
      throw_range(env, "%s: memory is not 4-byte aligned", what);
      return -1;
    }
    out->data = (float *)data;
    out->len = bytes / sizeof(float);
    return 0;
  }
  size_t length = 0;
  void *data = NULL;
  const int ta = get_typed_array(env, v, napi_float32_array, &data, &length);
  if (ta < 0) return -1;
  if (ta) {
    out->data = (float *)data;
    out->len = length;
    return 0;
  }
  throw_type(env, "%s: expected a Float32Array or an ArrayBuffer", what);
  return -1;
}

/* 0 when v is of type `want`; else throws "<what>: expected a <name>" */
static int check_type(napi_env env, napi_value v, napi_valuetype want, const char *what, const char *name) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t != want) {
    throw_type(env, "%s: expected a %s", what, name);
    return -1;
  }
  return 0;
}

/* A non-negative integer no larger than `max`. */
static int get_index(napi_env env, napi_value v, const char *what, double max, int64_t *out) {
  if (check_type(env, v, napi_number, what, "number")) return -1;
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return -1;
  if (!(d >= 0) || d > max || d != floor(d)) {
    throw_range(env, "%s: expected an integer in [0, %.0f], got %g", what, max, d);
    return -1;
  }
  *out = (int64_t)d;
  return 0;
}

static int get_number(napi_env env, napi_value v, const char *what, double *out) {
  if (check_type(env, v, napi_number, what, "number")) return -1;
  return napi_get_value_double(env, v, out) == napi_ok ? 0 : -1;
}

static int get_bool(napi_env env, napi_value v, const char *what, bool *out) {
  if (check_type(env, v, napi_boolean, what, "boolean")) return -1;
  return napi_get_value_bool(env, v, out) == napi_ok ? 0 : -1;
}

static bool is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  return t == napi_null || t == napi_undefined;
}

/* [off, off + count) must lie inside the buffer. */
static int check_range(napi_env env, const fbuf *b, int64_t off, int64_t count, const char *what) {
  if (count < 0 || off < 0 || (uint64_t)off > b->len || (uint64_t)count > b->len - (uint64_t)off) {
    throw_range(env, "%s: elements [%lld, %lld) are outside the buffer of %zu floats", what,
                (long long)off, (long long)(off + count), b->len);
    return -1;
  }
  return 0;
}

static bool overlaps(const float *a, int64_t na, const float *b, int64_t nb) {
  if (na == 0 || nb == 0) return false;
  return a < b + nb && b < a + na;
}

/* ------------------------------------------------------------------------------------------ */
/* A tiny fork-join helper for elementwise kernels.                                           */
/* ------------------------------------------------------------------------------------------ */

typedef void (*range_fn)(void *ctx, int64_t begin, int64_t end, int part);

typedef struct {
  range_fn fn;
  void *ctx;
  int64_t begin, end;
  int part;
} range_task;

static void *run_range_task(void *p) {
  range_task *t = (range_task *)p;
  t->fn(t->ctx, t->begin, t->end, t->part);
  return NULL;
}

#define MAX_PARTS 64

/* Elements per thread before an elementwise kernel splits: vectorised loops do ~1M elements in a
 * millisecond or two, and on a busy 2-core machine a second thread can wait longer than that to be
 * scheduled, so only large tensors are split. */
#define PARALLEL_GRAIN ((int64_t)1 << 20)

/* Elementwise kernels with a transcendental per element (GELU: an exp and a division) cost ~10×
 * a plain loop, so they split at a tenth of the size. */
#define TRANSCENDENTAL_GRAIN ((int64_t)1 << 16)

/* The addon is built without -march (it must run on any x86-64 the build may be copied to), so
 * the elementwise loops get AVX-512 and AVX2 clones picked at load time (GCC's target_clones).
 * Every operation is an IEEE single op in source order (-ffp-contract=off, no FMA), so each clone
 * writes the same bits as the SSE2 baseline. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef VECTOR_CLONES
#define VECTOR_CLONES
#endif

/* Splits [0, n) into up to g_threads contiguous parts of at least `grain` items; returns the
 * number of parts used (so callers with per-part partial results know how many to combine). */
static int parallel_for(int64_t n, int64_t grain, range_fn fn, void *ctx) {
  int parts = g_threads;
  if (parts > MAX_PARTS) parts = MAX_PARTS;
  if (grain < 1) grain = 1;
  if (n / grain < parts) parts = (int)(n / grain);
  if (parts < 1) parts = 1;
  if (parts == 1) {
    fn(ctx, 0, n, 0);
    return 1;
  }
  range_task tasks[MAX_PARTS];
  pthread_t threads[MAX_PARTS];
  bool started[MAX_PARTS];
  for (int i = 0; i < parts; i++) {
    tasks[i].fn = fn;
    tasks[i].ctx = ctx;
    tasks[i].begin = n * i / parts;
    tasks[i].end = n * (i + 1) / parts;
    tasks[i].part = i;
  }
  for (int i = 1; i < parts; i++)
    started[i] = pthread_create(&threads[i], NULL, run_range_task, &tasks[i]) == 0;
  run_range_task(&tasks[0]);
  for (int i = 1; i < parts; i++) {
    if (started[i])
      pthread_join(threads[i], NULL);
    else
      run_range_task(&tasks[i]); /* could not start a thread: do the part here */
  }
  return parts;
}

/* ------------------------------------------------------------------------------------------ */
/* sgemm(transA, transB, M, N, K, A, aOffsets, B, bOffsets, C, cOffset)                        */
/*   For each batch item i: C[cOffset + i*M*N ...] (M x N, row-major) = op(A_i) @ op(B_i),    */
/*   A_i starting at aOffsets[i] (M x K, or K x M when transA), B_i at bOffsets[i] (K x N, or  */
/*   N x K when transB). aOffsets/bOffsets are numbers (one product) or Float64Arrays of equal */
/*   length (a batch; broadcasting is expressed by repeating offsets).                        */
/* ------------------------------------------------------------------------------------------ */

static int get_offsets(napi_env env, napi_value v, const char *what, double **out, size_t *count,
                       double *single) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_number) {
    if (napi_get_value_double(env, v, single) != napi_ok) return -1;
    *out = single;
    *count = 1;
    return 0;
  }
  size_t length = 0;
  void *data = NULL;
  const int ta = get_typed_array(env, v, napi_float64_array, &data, &length);
  if (ta < 0) return -1;
  if (ta) {
    *out = (double *)data;
    *count = length;
    return 0;
  }
  throw_type(env, "%s: expected a number or a Float64Array of element offsets", what);
  return -1;
}

/* saeboard's own SGEMM (native/gemm/own_sgemm.c) is linked into every build: SAEBOARD_GEMM
   (auto by default: the own SGEMM where its kernel is a wider ISA than OpenBLAS's core)
   picks it or OpenBLAS, read at every call */
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
extern void saeboard_own_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                               int ldb, float beta, float *C, int ldc);
extern void saeboard_own_set_threads(int n);
extern int saeboard_gemm_use_own(const char *setting);
extern const char *saeboard_own_kernel_name(void);

static bool use_own_gemm(void) { return saeboard_gemm_use_own(getenv("SAEBOARD_GEMM")) != 0; }

/* The GEMM libraries' own thread counts (both: the own SGEMM may be the one called). */
static void set_gemm_threads(int n) {
  openblas_set_num_threads(n);
  saeboard_own_set_threads(n);
}

/* Products of at least this many multiply-adds are threaded by the library itself. */
#define BATCH_SPLIT_MAX_WORK 3e7
/* Multiply-adds each thread gets at least when a batch is split (~20-40 us of work: about what
 * starting and joining a thread costs). */
#define BATCH_SPLIT_MIN_PART 2e6

typedef struct {
  sgemm_fn gemm;
  int transA, transB, M, N, K, lda, ldb, ldc;
  const float *a;
  const double *aOffs;
  const float *b;
  const double *bOffs;
  float *c;
  int64_t sizeC;
} gemm_batch_ctx;

static void gemm_batch_range(void *p, int64_t i0, int64_t i1, int part) {
  (void)part;
  const gemm_batch_ctx *g = (const gemm_batch_ctx *)p;
  for (int64_t i = i0; i < i1; i++)
    g->gemm(CblasRowMajor, g->transA, g->transB, g->M, g->N, g->K, 1.0f, g->a + (int64_t)g->aOffs[i], g->lda,
            g->b + (int64_t)g->bOffs[i], g->ldb, 0.0f, g->c + i * g->sizeC, g->ldc);
}

static napi_value Sgemm(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  if (get_args(env, info, 11, argv, "sgemm")) return NULL;

  bool transA, transB;
  int64_t M, N, K, cOff;
  fbuf A, B, C;
  double *aOffs, *bOffs, aSingle, bSingle;
  size_t aCount, bCount;
  if (get_bool(env, argv[0], "sgemm transA", &transA) || get_bool(env, argv[1], "sgemm transB", &transB) ||
      get_index(env, argv[2], "sgemm M", INT32_MAX, &M) || get_index(env, argv[3], "sgemm N", INT32_MAX, &N) ||
      get_index(env, argv[4], "sgemm K", INT32_MAX, &K) || get_fbuf(env, argv[5], "sgemm A", &A) ||
      get_offsets(env, argv[6], "sgemm aOffsets", &aOffs, &aCount, &aSingle) ||
      get_fbuf(env, argv[7], "sgemm B", &B) ||
      get_offsets(env, argv[8], "sgemm bOffsets", &bOffs, &bCount, &bSingle) ||
      get_fbuf(env, argv[9], "sgemm C", &C) || get_index(env, argv[10], "sgemm cOffset", MAX_INDEX, &cOff))
    return NULL;
  if (aCount != bCount)
    return throw_range(env, "sgemm: %zu A offsets but %zu B offsets", aCount, bCount);
  const size_t batch = aCount;
  const int64_t sizeA = M * K, sizeB = K * N, sizeC = M * N;
  if ((double)sizeC * (double)batch > MAX_INDEX) return throw_range(env, "sgemm: output too large");
  if (check_range(env, &C, cOff, sizeC * (int64_t)batch, "sgemm C")) return NULL;
  float *c0 = C.data + cOff;
  for (size_t i = 0; i < batch; i++) {
    const double ao = aOffs[i], bo = bOffs[i];
    if (!(ao >= 0) || ao > MAX_INDEX || ao != floor(ao) || !(bo >= 0) || bo > MAX_INDEX || bo != floor(bo))
      return throw_range(env, "sgemm: batch %zu has an invalid offset (A %g, B %g)", i, ao, bo);
    if (check_range(env, &A, (int64_t)ao, sizeA, "sgemm A") || check_range(env, &B, (int64_t)bo, sizeB, "sgemm B"))
      return NULL;
    if (overlaps(A.data + (int64_t)ao, sizeA, c0, sizeC * (int64_t)batch) ||
        overlaps(B.data + (int64_t)bo, sizeB, c0, sizeC * (int64_t)batch))
      return throw_range(env, "sgemm: the output overlaps an input");
  }
  if (sizeC == 0 || batch == 0) return NULL;
  if (K == 0) {
    memset(c0, 0, sizeof(float) * (size_t)sizeC * batch);
    return NULL;
  }
  const int lda = (int)(transA ? M : K), ldb = (int)(transB ? K : N), ldc = (int)N;
  gemm_batch_ctx ctx = {use_own_gemm() ? saeboard_own_sgemm : cblas_sgemm,
                        transA ? CblasTrans : CblasNoTrans,
                        transB ? CblasTrans : CblasNoTrans,
                        (int)M, (int)N, (int)K,
                        lda > 0 ? lda : 1, ldb > 0 ? ldb : 1, ldc > 0 ? ldc : 1,
                        A.data, aOffs, B.data, bOffs, c0, sizeC};
  const double work = (double)M * (double)N * (double)K;
  if (batch < 2 || g_threads < 2 || work >= BATCH_SPLIT_MAX_WORK) {
    gemm_batch_range(&ctx, 0, (int64_t)batch, 0);
    return NULL;
  }
  /* Many small products (attention's per-head Q·Kᵀ and P·V): a library threads each call on its
   * own, or not at all below its threshold (OpenBLAS: 2.6e5 multiply-adds), so the batch runs one
   * product at a time. Split the batch over the threads instead, each product single-threaded. */
  const int64_t grain = work >= BATCH_SPLIT_MIN_PART ? 1 : (int64_t)ceil(BATCH_SPLIT_MIN_PART / work);
  set_gemm_threads(1);
  parallel_for((int64_t)batch, grain, gemm_batch_range, &ctx);
  set_gemm_threads(g_threads);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* biasAct(C, cOffset, rows, cols, activation, bias, biasOffset, biasLen, alpha,               */
/*         prelu, preluOffset, preluLen)                                                      */
/*   In place on the rows x cols block: x = act(x + bias[col]). bias/prelu may be null; their */
/*   length is 1 (scalar) or cols (per column). Activation codes follow tfjs-backend-wasm's    */
/*   FusableActivation: 0 linear, 1 relu, 2 relu6, 3 prelu, 4 leakyrelu, 5 sigmoid, 6 elu.    */
/* ------------------------------------------------------------------------------------------ */

enum { ACT_LINEAR = 0, ACT_RELU, ACT_RELU6, ACT_PRELU, ACT_LEAKYRELU, ACT_SIGMOID, ACT_ELU, ACT_COUNT };

typedef struct {
  float *c;
  int64_t cols;
  int act;
  const float *bias;
  int64_t bias_len;
  float alpha;
  const float *prelu;
  int64_t prelu_len;
} bias_act_ctx;

VECTOR_CLONES static void bias_act_rows(void *p, int64_t r0, int64_t r1, int part) {
  const bias_act_ctx *k = (const bias_act_ctx *)p;
  const int64_t cols = k->cols;
  for (int64_t r = r0; r < r1; r++) {
    float *x = k->c + r * cols;
    if (k->bias) {
      if (k->bias_len == 1) {
        const float b = k->bias[0];
        for (int64_t j = 0; j < cols; j++) x[j] += b;
      } else {
        const float *b = k->bias;
        for (int64_t j = 0; j < cols; j++) x[j] += b[j];
      }
    }
    switch (k->act) {
      case ACT_RELU:
        for (int64_t j = 0; j < cols; j++) x[j] = x[j] > 0.0f ? x[j] : 0.0f;
        break;
      case ACT_RELU6:
        for (int64_t j = 0; j < cols; j++) x[j] = x[j] > 0.0f ? (x[j] < 6.0f ? x[j] : 6.0f) : 0.0f;
        break;
      case ACT_PRELU:
        for (int64_t j = 0; j < cols; j++) {
          const float w = k->prelu[k->prelu_len == 1 ? 0 : j];
          x[j] = x[j] < 0.0f ? w * x[j] : x[j];
        }
        break;
      case ACT_LEAKYRELU:
        for (int64_t j = 0; j < cols; j++) x[j] = x[j] < 0.0f ? k->alpha * x[j] : x[j];
        break;
      case ACT_SIGMOID:
        for (int64_t j = 0; j < cols; j++) x[j] = 1.0f / (1.0f + expf(-x[j]));
        break;
      case ACT_ELU:
        for (int64_t j = 0; j < cols; j++) x[j] = x[j] > 0.0f ? x[j] : expm1f(x[j]);
        break;
      default:
        break;
    }
  }
}

static napi_value BiasAct(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  if (get_args(env, info, 12, argv, "biasAct")) return NULL;
  fbuf C, Bias = {0}, Prelu = {0};
  int64_t cOff, rows, cols, act, biasOff = 0, biasLen = 0, preluOff = 0, preluLen = 0;
  double alpha;
  if (get_fbuf(env, argv[0], "biasAct C", &C) || get_index(env, argv[1], "biasAct cOffset", MAX_INDEX, &cOff) ||
      get_index(env, argv[2], "biasAct rows", MAX_INDEX, &rows) ||
      get_index(env, argv[3], "biasAct cols", INT32_MAX, &cols) ||
      get_index(env, argv[4], "biasAct activation", ACT_COUNT - 1, &act) ||
      get_number(env, argv[8], "biasAct alpha", &alpha))
    return NULL;
  if ((double)rows * (double)cols > MAX_INDEX) return throw_range(env, "biasAct: block too large");
  const bool hasBias = !is_nullish(env, argv[5]);
  const bool hasPrelu = !is_nullish(env, argv[9]);
  if (hasBias && (get_fbuf(env, argv[5], "biasAct bias", &Bias) ||
                  get_index(env, argv[6], "biasAct biasOffset", MAX_INDEX, &biasOff) ||
                  get_index(env, argv[7], "biasAct biasLen", MAX_INDEX, &biasLen)))
    return NULL;
  if (hasPrelu && (get_fbuf(env, argv[9], "biasAct prelu", &Prelu) ||
                   get_index(env, argv[10], "biasAct preluOffset", MAX_INDEX, &preluOff) ||
                   get_index(env, argv[11], "biasAct preluLen", MAX_INDEX, &preluLen)))
    return NULL;
  if (check_range(env, &C, cOff, rows * cols, "biasAct C")) return NULL;
  if (hasBias) {
    if (biasLen != 1 && biasLen != cols)
      return throw_range(env, "biasAct: bias has %lld elements; expected 1 or %lld", (long long)biasLen, (long long)cols);
    if (check_range(env, &Bias, biasOff, biasLen, "biasAct bias")) return NULL;
  }
  if (act == ACT_PRELU) {
    if (!hasPrelu) return throw_type(env, "biasAct: prelu activation needs prelu weights");
    if (preluLen != 1 && preluLen != cols)
      return throw_range(env, "biasAct: prelu weights have %lld elements; expected 1 or %lld", (long long)preluLen,
                         (long long)cols);
    if (check_range(env, &Prelu, preluOff, preluLen, "biasAct prelu")) return NULL;
  }
  bias_act_ctx k = {C.data + cOff, cols, (int)act, hasBias ? Bias.data + biasOff : NULL, biasLen, (float)alpha,
                    hasPrelu ? Prelu.data + preluOff : NULL, preluLen};
  if (k.bias && overlaps(k.bias, biasLen, k.c, rows * cols)) return throw_range(env, "biasAct: bias overlaps the output");
  if (k.prelu && overlaps(k.prelu, preluLen, k.c, rows * cols))
    return throw_range(env, "biasAct: prelu weights overlap the output");
  if (rows * cols == 0 || (act == ACT_LINEAR && !hasBias)) return NULL;
  parallel_for(rows, cols > 0 ? PARALLEL_GRAIN / cols + 1 : rows, bias_act_rows, &k);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* GELU, tanh approximation (nanoGPT's new_gelu / PyTorch gelu(approximate='tanh')):          */
/*   gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))                                 */
/* gelu(X, xOff, Y, yOff, n)                 Y = gelu(X)                                       */
/* geluGrad(X, xOff, DY, dyOff, DX, dxOff, n) DX = DY * gelu'(X)                               */
/* ------------------------------------------------------------------------------------------ */

#define GELU_C 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_A 0.044715f

/* expf without a libm call so the loops vectorise (SSE2 baseline; needs -fno-trapping-math): Cephes' range reduction and degree-6 polynomial,
 * ~1 ulp on the clamped range (inputs beyond it saturate, which tanh below does not notice). */
static inline float exp_approx(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float t = x * 1.44269504088896341f;
  /* round to nearest by the 1.5·2^23 trick: GCC will not vectorise the AVX2/AVX-512 clones of
   * the truncating form (int)(t ± 0.5) */
  const float n = (t + 12582912.0f) - 12582912.0f;
  const int32_t ni = (int32_t)n;
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  union {
    int32_t i;
    float f;
  } scale;
  scale.i = (ni + 127) << 23;
  return p * scale.f;
}

/* tanh(u) = 1 - 2/(e^{2u} + 1): branch-free; saturates to ±1 for large |u|. */
static inline float fast_tanh(float u) { return 1.0f - 2.0f / (exp_approx(2.0f * u) + 1.0f); }

typedef struct {
  const float *x;
  const float *dy;
  float *out;
} gelu_ctx;

VECTOR_CLONES static void gelu_range(void *p, int64_t i0, int64_t i1, int part) {
  const gelu_ctx *k = (const gelu_ctx *)p;
  for (int64_t i = i0; i < i1; i++) {
    const float x = k->x[i];
    const float t = fast_tanh(GELU_C * (x + GELU_A * x * x * x));
    k->out[i] = 0.5f * x * (1.0f + t);
  }
}

VECTOR_CLONES static void gelu_grad_range(void *p, int64_t i0, int64_t i1, int part) {
  const gelu_ctx *k = (const gelu_ctx *)p;
  for (int64_t i = i0; i < i1; i++) {
    const float x = k->x[i];
    const float x2 = x * x;
    const float t = fast_tanh(GELU_C * (x + GELU_A * x2 * x));
    const float d = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_C * (1.0f + 3.0f * GELU_A * x2);
    k->out[i] = k->dy[i] * d;
  }
}

/* GELU, exact (erf) form (PyTorch's default F.gelu, the real Othello-GPT's activation):
 *   gelu(x) = x Φ(x),  Φ(x) = ½ erfc(−x/√2),  gelu'(x) = Φ(x) + x φ(x),  φ(x) = e^{−x²/2}/√(2π).
 * erfc(z) for z ≥ 0 by the Chebyshev fit in Numerical Recipes (erfcc: relative error < 1.2e-7 for
 * every z ≥ 0), so Φ keeps its relative accuracy far into the negative tail where 1 + erf(x)
 * would cancel; branch-free so the loops vectorise. */
#define SQRT1_2_F 0.70710678118654752f
#define INV_SQRT_2PI_F 0.39894228040143268f

static inline float erfc_nonneg(float z) {
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  return t * exp_approx(p - z * z);
}

/* Φ(x), the standard normal CDF */
static inline float normal_cdf(float x) {
  const float half_tail = 0.5f * erfc_nonneg(fabsf(x) * SQRT1_2_F);
  return x >= 0.0f ? 1.0f - half_tail : half_tail;
}

VECTOR_CLONES static void gelu_erf_range(void *p, int64_t i0, int64_t i1, int part) {
  const gelu_ctx *k = (const gelu_ctx *)p;
  for (int64_t i = i0; i < i1; i++) {
    const float x = k->x[i];
    k->out[i] = x * normal_cdf(x);
  }
}

VECTOR_CLONES static void gelu_erf_grad_range(void *p, int64_t i0, int64_t i1, int part) {
  const gelu_ctx *k = (const gelu_ctx *)p;
  for (int64_t i = i0; i < i1; i++) {
    const float x = k->x[i];
    const float pdf = INV_SQRT_2PI_F * exp_approx(-0.5f * x * x);
    k->out[i] = k->dy[i] * (normal_cdf(x) + x * pdf);
  }
}

static napi_value run_gelu(napi_env env, napi_callback_info info, range_fn fn) {
  napi_value argv[5];
  if (get_args(env, info, 5, argv, "gelu")) return NULL;
  fbuf X, Y;
  int64_t xOff, yOff, n;
  if (get_fbuf(env, argv[0], "gelu X", &X) || get_index(env, argv[1], "gelu xOffset", MAX_INDEX, &xOff) ||
      get_fbuf(env, argv[2], "gelu Y", &Y) || get_index(env, argv[3], "gelu yOffset", MAX_INDEX, &yOff) ||
      get_index(env, argv[4], "gelu n", MAX_INDEX, &n) || check_range(env, &X, xOff, n, "gelu X") ||
      check_range(env, &Y, yOff, n, "gelu Y"))
    return NULL;
  gelu_ctx k = {X.data + xOff, NULL, Y.data + yOff};
  if (k.x != k.out && overlaps(k.x, n, k.out, n)) return throw_range(env, "gelu: Y partially overlaps X");
  parallel_for(n, TRANSCENDENTAL_GRAIN, fn, &k);
  return NULL;
}

static napi_value Gelu(napi_env env, napi_callback_info info) { return run_gelu(env, info, gelu_range); }
static napi_value GeluErf(napi_env env, napi_callback_info info) { return run_gelu(env, info, gelu_erf_range); }

/* ------------------------------------------------------------------------------------------ */
/* colSum(X, xOffset, rows, cols, Y, yOffset): Y[c] = Σ_r X[r·cols + c], summed in double.     */
/*   tfjs-wasm's Sum over leading axes transposes its input first (a full copy) and then       */
/*   reduces: 10–35 ms for a [6144, 192–768] bias gradient of the GPT's backward, 20 % of a    */
/*   chess-small training step; this reads each row once. Split over column ranges.           */

typedef struct {
  const float *x;
  float *out;
  int64_t rows, cols;
  int failed;
} colsum_ctx;

static void colsum_cols(void *p, int64_t c0, int64_t c1, int part) {
  colsum_ctx *k = (colsum_ctx *)p;
  const int64_t w = c1 - c0;
  double *acc = (double *)calloc((size_t)w, sizeof(double));
  if (!acc) {
    k->failed = 1;
    return;
  }
  for (int64_t r = 0; r < k->rows; r++) {
    const float *row = k->x + r * k->cols + c0;
    for (int64_t c = 0; c < w; c++) acc[c] += row[c];
  }
  for (int64_t c = 0; c < w; c++) k->out[c0 + c] = (float)acc[c];
  free(acc);
}

static napi_value ColSum(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (get_args(env, info, 6, argv, "colSum")) return NULL;
  fbuf X, Y;
  int64_t xOff, yOff, rows, cols;
  if (get_fbuf(env, argv[0], "colSum X", &X) || get_index(env, argv[1], "colSum xOffset", MAX_INDEX, &xOff) ||
      get_index(env, argv[2], "colSum rows", MAX_INDEX, &rows) || get_index(env, argv[3], "colSum cols", MAX_INDEX, &cols) ||
      get_fbuf(env, argv[4], "colSum Y", &Y) || get_index(env, argv[5], "colSum yOffset", MAX_INDEX, &yOff))
    return NULL;
  if ((double)rows * (double)cols > MAX_INDEX) return throw_range(env, "colSum: rows × cols too large");
  if (check_range(env, &X, xOff, rows * cols, "colSum X") || check_range(env, &Y, yOff, cols, "colSum Y")) return NULL;
  colsum_ctx k = {X.data + xOff, Y.data + yOff, rows, cols, 0};
  if (overlaps(k.x, rows * cols, k.out, cols)) return throw_range(env, "colSum: Y overlaps X");
  if (cols == 0) return NULL;
  parallel_for(cols, rows > 0 ? PARALLEL_GRAIN / rows + 1 : cols, colsum_cols, &k);
  if (k.failed) return throw_range(env, "colSum: out of memory");
  return NULL;
}

static napi_value run_gelu_grad(napi_env env, napi_callback_info info, range_fn fn) {
  napi_value argv[7];
  if (get_args(env, info, 7, argv, "geluGrad")) return NULL;
  fbuf X, DY, DX;
  int64_t xOff, dyOff, dxOff, n;
  if (get_fbuf(env, argv[0], "geluGrad X", &X) || get_index(env, argv[1], "geluGrad xOffset", MAX_INDEX, &xOff) ||
      get_fbuf(env, argv[2], "geluGrad DY", &DY) ||
      get_index(env, argv[3], "geluGrad dyOffset", MAX_INDEX, &dyOff) ||
      get_fbuf(env, argv[4], "geluGrad DX", &DX) ||
      get_index(env, argv[5], "geluGrad dxOffset", MAX_INDEX, &dxOff) ||
      get_index(env, argv[6], "geluGrad n", MAX_INDEX, &n) || check_range(env, &X, xOff, n, "geluGrad X") ||
      check_range(env, &DY, dyOff, n, "geluGrad DY") || check_range(env, &DX, dxOff, n, "geluGrad DX"))
    return NULL;
  gelu_ctx k = {X.data + xOff, DY.data + dyOff, DX.data + dxOff};
  if ((k.x != k.out && overlaps(k.x, n, k.out, n)) || (k.dy != k.out && overlaps(k.dy, n, k.out, n)))
    return throw_range(env, "geluGrad: DX partially overlaps an input");
  parallel_for(n, TRANSCENDENTAL_GRAIN, fn, &k);
  return NULL;
}

static napi_value GeluGrad(napi_env env, napi_callback_info info) { return run_gelu_grad(env, info, gelu_grad_range); }
static napi_value GeluErfGrad(napi_env env, napi_callback_info info) { return run_gelu_grad(env, info, gelu_erf_grad_range); }

/* ------------------------------------------------------------------------------------------ */
/* Softmax over the last axis (attention's probabilities), and its gradient.                  */
/* softmax(X, xOff, rows, cols, Y, yOff)                 Y = softmax(X) per row (Y may be X)  */
/* softmaxGrad(Y, yOff, DY, dyOff, rows, cols, DX, dxOff) DX = Y ⊙ (DY − Σ_j DY·Y) per row    */
/*   tfjs runs the forward as one wasm kernel and the gradient as four (Mul, Sum, Sub, Mul)   */
/*   over the [H·B, T, S] scores; here each is one pass per row on every thread.              */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
  const float *x, *dy;
  float *out;
  int64_t cols;
} softmax_ctx;

/* Σ v[j] with 16 running partial sums, so the loop vectorises without reassociation flags. */
static inline float sum_lanes(const float *v, int64_t n) {
  float acc[16] = {0};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int l = 0; l < 16; l++) acc[l] += v[j + l];
  float s = 0;
  for (; j < n; j++) s += v[j];
  for (int l = 0; l < 16; l++) s += acc[l];
  return s;
}

/* Σ a[j]·b[j] with 16 running partial sums (as sum_lanes). */
static inline float dot_lanes(const float *a, const float *b, int64_t n) {
  float acc[16] = {0};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int l = 0; l < 16; l++) acc[l] += a[j + l] * b[j + l];
  float s = 0;
  for (; j < n; j++) s += a[j] * b[j];
  for (int l = 0; l < 16; l++) s += acc[l];
  return s;
}

/* max_j v[j] (n ≥ 1) with 16 running maxima: a plain max reduction does not vectorise without
 * -ffinite-math-only */
static inline float max_lanes(const float *v, int64_t n) {
  float acc[16];
  for (int l = 0; l < 16; l++) acc[l] = v[0];
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int l = 0; l < 16; l++) acc[l] = v[j + l] > acc[l] ? v[j + l] : acc[l];
  float m = v[0];
  for (; j < n; j++) m = v[j] > m ? v[j] : m;
  for (int l = 0; l < 16; l++) m = acc[l] > m ? acc[l] : m;
  return m;
}

/* y[0..n) = softmax(x[0..n)) (n ≥ 1; y may be x). Below e^-87 is under float's normal range:
 * exactly 0, as the causal mask's -1e9 needs. */
static inline void softmax_row(const float *x, float *y, int64_t n) {
  const float m = max_lanes(x, n);
  for (int64_t j = 0; j < n; j++) {
    const float d = x[j] - m;
    y[j] = d < -87.0f ? 0.0f : exp_approx(d);
  }
  const float inv = 1.0f / sum_lanes(y, n);
  for (int64_t j = 0; j < n; j++) y[j] *= inv;
}

VECTOR_CLONES static void softmax_rows(void *p, int64_t r0, int64_t r1, int part) {
  const softmax_ctx *k = (const softmax_ctx *)p;
  const int64_t C = k->cols;
  for (int64_t r = r0; r < r1; r++) softmax_row(k->x + r * C, k->out + r * C, C);
}

VECTOR_CLONES static void softmax_grad_rows(void *p, int64_t r0, int64_t r1, int part) {
  const softmax_ctx *k = (const softmax_ctx *)p;
  const int64_t C = k->cols;
  for (int64_t r = r0; r < r1; r++) {
    const float *y = k->x + r * C;
    const float *dy = k->dy + r * C;
    float *dx = k->out + r * C;
    const float dot = dot_lanes(dy, y, C);
    for (int64_t j = 0; j < C; j++) dx[j] = y[j] * (dy[j] - dot);
  }
}

static napi_value Softmax(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (get_args(env, info, 6, argv, "softmax")) return NULL;
  fbuf X, Y;
  int64_t xOff, rows, cols, yOff;
  if (get_fbuf(env, argv[0], "softmax X", &X) || get_index(env, argv[1], "softmax xOffset", MAX_INDEX, &xOff) ||
      get_index(env, argv[2], "softmax rows", MAX_INDEX, &rows) || get_index(env, argv[3], "softmax cols", INT32_MAX, &cols) ||
      get_fbuf(env, argv[4], "softmax Y", &Y) || get_index(env, argv[5], "softmax yOffset", MAX_INDEX, &yOff))
    return NULL;
  if (cols == 0) return throw_range(env, "softmax: the softmax axis is empty");
  if ((double)rows * (double)cols > MAX_INDEX) return throw_range(env, "softmax: input too large");
  const int64_t n = rows * cols;
  if (check_range(env, &X, xOff, n, "softmax X") || check_range(env, &Y, yOff, n, "softmax Y")) return NULL;
  softmax_ctx k = {X.data + xOff, NULL, Y.data + yOff, cols};
  if (k.x != k.out && overlaps(k.x, n, k.out, n)) return throw_range(env, "softmax: Y partially overlaps X");
  parallel_for(rows, TRANSCENDENTAL_GRAIN / cols + 1, softmax_rows, &k);
  return NULL;
}

static napi_value SoftmaxGrad(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (get_args(env, info, 8, argv, "softmaxGrad")) return NULL;
  fbuf Y, DY, DX;
  int64_t yOff, dyOff, rows, cols, dxOff;
  if (get_fbuf(env, argv[0], "softmaxGrad Y", &Y) || get_index(env, argv[1], "softmaxGrad yOffset", MAX_INDEX, &yOff) ||
      get_fbuf(env, argv[2], "softmaxGrad DY", &DY) || get_index(env, argv[3], "softmaxGrad dyOffset", MAX_INDEX, &dyOff) ||
      get_index(env, argv[4], "softmaxGrad rows", MAX_INDEX, &rows) ||
      get_index(env, argv[5], "softmaxGrad cols", INT32_MAX, &cols) || get_fbuf(env, argv[6], "softmaxGrad DX", &DX) ||
      get_index(env, argv[7], "softmaxGrad dxOffset", MAX_INDEX, &dxOff))
    return NULL;
  if (cols == 0) return throw_range(env, "softmaxGrad: the softmax axis is empty");
  if ((double)rows * (double)cols > MAX_INDEX) return throw_range(env, "softmaxGrad: input too large");
  const int64_t n = rows * cols;
  if (check_range(env, &Y, yOff, n, "softmaxGrad Y") || check_range(env, &DY, dyOff, n, "softmaxGrad DY") ||
      check_range(env, &DX, dxOff, n, "softmaxGrad DX"))
    return NULL;
  softmax_ctx k = {Y.data + yOff, DY.data + dyOff, DX.data + dxOff, cols};
  if ((k.x != k.out && overlaps(k.x, n, k.out, n)) || (k.dy != k.out && overlaps(k.dy, n, k.out, n)))
    return throw_range(env, "softmaxGrad: DX partially overlaps an input");
  parallel_for(rows, TRANSCENDENTAL_GRAIN / cols + 1, softmax_grad_rows, &k);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* causalAttention(Q, qOff, K, kOff, V, vOff, B, H, T, Dh, scale, Y, yOff)                     */
/*   Q, K, V, Y are [B, T, H, Dh] row-major (the [N, d] output of the q/k/v projections, as is: */
/*   no transposes to a head-major layout). For every (batch, head) pair:                     */
/*   Y = softmax(scale · Q Kᵀ + causal mask) V, the mask hiding keys after the query.          */
/*   Blocks of ATTN_BLOCK query rows: block [r0, r1) needs keys 0..r1−1 only, so the masked    */
/*   upper triangle is never multiplied (half of the T² work at T = 1023), and the [T, T]      */
/*   scores never exist: one block's [ATTN_BLOCK, r1] scores stay in the thread's cache. The   */
/*   (pair, block) tasks are split over the threads, each GEMM single-threaded.                */
/* ------------------------------------------------------------------------------------------ */

#define ATTN_BLOCK 64

typedef struct {
  sgemm_fn gemm;
  const float *q, *k, *v;
  float *y;
  float *p; /* causalAttentionTrain: the [B·H, T, T] probabilities (else NULL: a scratch block) */
  int64_t H, T, Dh, blocks;
  float scale;
  int failed;
} attn_ctx;

VECTOR_CLONES static void attn_tasks(void *p, int64_t t0, int64_t t1, int part) {
  attn_ctx *a = (attn_ctx *)p;
  const int64_t H = a->H, T = a->T, Dh = a->Dh, ld = H * Dh; /* a row of one head: stride H·Dh */
  float *S = a->p ? NULL : (float *)malloc(sizeof(float) * (size_t)(ATTN_BLOCK * T));
  if (!a->p && !S) {
    a->failed = 1;
    return;
  }
  for (int64_t t = t0; t < t1; t++) {
    const int64_t pair = t / a->blocks, r0 = (t % a->blocks) * ATTN_BLOCK;
    const int64_t r1 = r0 + ATTN_BLOCK < T ? r0 + ATTN_BLOCK : T, rows = r1 - r0;
    const int64_t base = (pair / H) * T * ld + (pair % H) * Dh; /* (batch, head) → row 0 of that head */
    const float *q = a->q + base + r0 * ld, *k = a->k + base, *v = a->v + base;
    /* the block's scores, then probabilities: rows r0..r1 of the pair's saved [T, T] when training */
    float *s = a->p ? a->p + pair * T * T + r0 * T : S;
    const int64_t lds = a->p ? T : r1; /* also the width to zero beyond the visible keys */
    a->gemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)r1, (int)Dh, a->scale, q, (int)ld, k, (int)ld, 0.0f, s,
            (int)lds);
    for (int64_t i = 0; i < rows; i++) {
      float *row = s + i * lds;
      const int64_t visible = r0 + i + 1; /* keys 0..r0+i */
      softmax_row(row, row, visible);
      for (int64_t j = visible; j < lds; j++) row[j] = 0.0f;
    }
    a->gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)Dh, (int)r1, 1.0f, s, (int)lds, v, (int)ld, 0.0f,
            a->y + base + r0 * ld, (int)ld);
  }
  free(S);
}

static napi_value CausalAttention(napi_env env, napi_callback_info info) {
  napi_value argv[13];
  if (get_args(env, info, 13, argv, "causalAttention")) return NULL;
  fbuf Q, K, V, Y;
  int64_t qOff, kOff, vOff, Bt, H, T, Dh, yOff;
  double scale;
  if (get_fbuf(env, argv[0], "causalAttention Q", &Q) || get_index(env, argv[1], "causalAttention qOffset", MAX_INDEX, &qOff) ||
      get_fbuf(env, argv[2], "causalAttention K", &K) || get_index(env, argv[3], "causalAttention kOffset", MAX_INDEX, &kOff) ||
      get_fbuf(env, argv[4], "causalAttention V", &V) || get_index(env, argv[5], "causalAttention vOffset", MAX_INDEX, &vOff) ||
      get_index(env, argv[6], "causalAttention B", MAX_INDEX, &Bt) || get_index(env, argv[7], "causalAttention H", INT32_MAX, &H) ||
      get_index(env, argv[8], "causalAttention T", INT32_MAX, &T) || get_index(env, argv[9], "causalAttention Dh", INT32_MAX, &Dh) ||
      get_number(env, argv[10], "causalAttention scale", &scale) || get_fbuf(env, argv[11], "causalAttention Y", &Y) ||
      get_index(env, argv[12], "causalAttention yOffset", MAX_INDEX, &yOff))
    return NULL;
  if (!isfinite(scale)) return throw_range(env, "causalAttention: scale must be finite");
  if ((double)Bt * (double)H * (double)T * (double)Dh > MAX_INDEX || (double)H * (double)Dh > INT32_MAX)
    return throw_range(env, "causalAttention: input too large");
  const int64_t X = Bt * H, n = X * T * Dh;
  if (check_range(env, &Q, qOff, n, "causalAttention Q") || check_range(env, &K, kOff, n, "causalAttention K") ||
      check_range(env, &V, vOff, n, "causalAttention V") || check_range(env, &Y, yOff, n, "causalAttention Y"))
    return NULL;
  attn_ctx a = {use_own_gemm() ? saeboard_own_sgemm : cblas_sgemm, Q.data + qOff, K.data + kOff, V.data + vOff, Y.data + yOff,
                NULL, H, T, Dh, (T + ATTN_BLOCK - 1) / ATTN_BLOCK, (float)scale, 0};
  if (overlaps(a.q, n, a.y, n) || overlaps(a.k, n, a.y, n) || overlaps(a.v, n, a.y, n))
    return throw_range(env, "causalAttention: Y overlaps an input");
  if (n == 0) return NULL;
  set_gemm_threads(1);
  /* a task is one block: ~2·64·T·Dh multiply-adds on average, a few µs at T = 59 */
  parallel_for(X * a.blocks, (int64_t)ceil(BATCH_SPLIT_MIN_PART / (double)(2 * ATTN_BLOCK * (T / 2 + 1) * Dh + 1)), attn_tasks, &a);
  set_gemm_threads(g_threads);
  if (a.failed) return throw_range(env, "causalAttention: out of memory");
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Causal attention for training: the forward keeps the probabilities, the backward uses them. */
/* causalAttentionTrain(B, H, T, Dh, scale, Q, qOff, K, kOff, V, vOff, Y, yOff, P, pOff)       */
/*   as causalAttention, and P [B·H, T, T] (pair = batch·H + head) receives the probabilities  */
/*   (zero above the diagonal) for the backward.                                               */
/* causalAttentionGrad(B, H, T, Dh, scale, Q, qOff, K, kOff, V, vOff, P, pOff, DY, dyOff,      */
/*                     DQ, dqOff, DK, dkOff, DV, dvOff)                                        */
/*   per pair, with dS = P ⊙ (dY·Vᵀ − rowsum(P ⊙ dY·Vᵀ)) (the softmax gradient):               */
/*   dV = Pᵀ·dY, dQ = scale·dS·K, dK = scale·dSᵀ·Q — the heads read and written in place in    */
/*   the [B, T, H·Dh] layout (no transposes), in blocks of ATTN_BLOCK query rows that skip the */
/*   masked half as the forward does, one pair a task (dK and dV sum over all of a pair's      */
/*   query rows), each GEMM single-threaded.                                                   */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
  int64_t B, H, T, Dh, X, n, nP; /* X = B·H pairs; n = B·T·H·Dh floats of Q/K/V/Y; nP = X·T·T */
  double scale;
} attn_dims;

/* argv[0..4] = B, H, T, Dh, scale */
static int get_attn_dims(napi_env env, napi_value *argv, const char *name, attn_dims *d) {
  char what[64];
  const char *names[4] = {"B", "H", "T", "Dh"};
  int64_t *dst[4] = {&d->B, &d->H, &d->T, &d->Dh};
  for (int i = 0; i < 4; i++) {
    snprintf(what, sizeof what, "%s %s", name, names[i]);
    if (get_index(env, argv[i], what, i == 0 ? MAX_INDEX : INT32_MAX, dst[i])) return -1;
  }
  snprintf(what, sizeof what, "%s scale", name);
  if (get_number(env, argv[4], what, &d->scale)) return -1;
  if (!isfinite(d->scale)) {
    throw_range(env, "%s: scale must be finite", name);
    return -1;
  }
  if ((double)d->B * d->H * d->T * d->Dh > MAX_INDEX || (double)d->H * d->Dh > INT32_MAX || (double)d->B * d->H * d->T * d->T > MAX_INDEX) {
    throw_range(env, "%s: input too large", name);
    return -1;
  }
  d->X = d->B * d->H;
  d->n = d->X * d->T * d->Dh;
  d->nP = d->X * d->T * d->T;
  return 0;
}

/* argv[0], argv[1] = buffer, offset of a tensor named `what`, checked to hold n floats */
static int get_tensor(napi_env env, napi_value *argv, const char *name, const char *what, int64_t n, float **out) {
  char label[64];
  fbuf b;
  int64_t off;
  snprintf(label, sizeof label, "%s %s", name, what);
  if (get_fbuf(env, argv[0], label, &b)) return -1;
  char olabel[72];
  snprintf(olabel, sizeof olabel, "%s offset", label);
  if (get_index(env, argv[1], olabel, MAX_INDEX, &off) || check_range(env, &b, off, n, label)) return -1;
  *out = b.data + off;
  return 0;
}

static napi_value CausalAttentionTrain(napi_env env, napi_callback_info info) {
  const char *name = "causalAttentionTrain";
  napi_value argv[15];
  if (get_args(env, info, 15, argv, name)) return NULL;
  attn_dims d;
  float *q, *k, *v, *y, *p;
  if (get_attn_dims(env, argv, name, &d) || get_tensor(env, argv + 5, name, "Q", d.n, &q) || get_tensor(env, argv + 7, name, "K", d.n, &k) ||
      get_tensor(env, argv + 9, name, "V", d.n, &v) || get_tensor(env, argv + 11, name, "Y", d.n, &y) ||
      get_tensor(env, argv + 13, name, "P", d.nP, &p))
    return NULL;
  const float *ins[3] = {q, k, v};
  for (int i = 0; i < 3; i++)
    if (overlaps(ins[i], d.n, y, d.n) || overlaps(ins[i], d.n, p, d.nP)) return throw_range(env, "%s: Y or P overlaps an input", name);
  if (overlaps(y, d.n, p, d.nP)) return throw_range(env, "%s: Y overlaps P", name);
  if (d.n == 0 || d.T == 0) return NULL;
  attn_ctx a = {use_own_gemm() ? saeboard_own_sgemm : cblas_sgemm, q, k, v, y, p, d.H, d.T, d.Dh, (d.T + ATTN_BLOCK - 1) / ATTN_BLOCK, (float)d.scale, 0};
  set_gemm_threads(1);
  parallel_for(d.X * a.blocks, (int64_t)ceil(BATCH_SPLIT_MIN_PART / (double)(2 * ATTN_BLOCK * (d.T / 2 + 1) * d.Dh + 1)), attn_tasks, &a);
  set_gemm_threads(g_threads);
  if (a.failed) return throw_range(env, "%s: out of memory", name);
  return NULL;
}

typedef struct {
  sgemm_fn gemm;
  const float *q, *k, *v, *p, *dy;
  float *dq, *dk, *dv;
  int64_t H, T, Dh;
  float scale;
  int failed;
} attn_grad_ctx;

VECTOR_CLONES static void attn_grad_tasks(void *pp, int64_t x0, int64_t x1, int part) {
  attn_grad_ctx *a = (attn_grad_ctx *)pp;
  const int64_t H = a->H, T = a->T, Dh = a->Dh, ld = H * Dh;
  float *dS = (float *)malloc(sizeof(float) * (size_t)(ATTN_BLOCK * T));
  if (!dS) {
    a->failed = 1;
    return;
  }
  for (int64_t pair = x0; pair < x1; pair++) {
    const int64_t base = (pair / H) * T * ld + (pair % H) * Dh;
    const float *P = a->p + pair * T * T, *dy = a->dy + base, *q = a->q + base, *k = a->k + base, *v = a->v + base;
    float *dq = a->dq + base, *dk = a->dk + base, *dv = a->dv + base;
    for (int64_t t = 0; t < T; t++) {
      memset(dk + t * ld, 0, Dh * sizeof(float));
      memset(dv + t * ld, 0, Dh * sizeof(float));
    }
    /* blocks of query rows [r0, r1): they see keys 0..r1−1 only, so the masked half of every
       product is skipped; dK and dV sum the blocks' contributions */
    for (int64_t r0 = 0; r0 < T; r0 += ATTN_BLOCK) {
      const int64_t r1 = r0 + ATTN_BLOCK < T ? r0 + ATTN_BLOCK : T, rows = r1 - r0;
      const float *Pb = P + r0 * T;
      /* dV[0:r1] += P[r0:r1, 0:r1]ᵀ·dY[r0:r1] */
      a->gemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)r1, (int)Dh, (int)rows, 1.0f, Pb, (int)T, dy + r0 * ld, (int)ld, 1.0f, dv, (int)ld);
      /* dP = dY[r0:r1]·V[0:r1]ᵀ, then dS = P ⊙ (dP − Σ_j P·dP) in place */
      a->gemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)r1, (int)Dh, 1.0f, dy + r0 * ld, (int)ld, v, (int)ld, 0.0f, dS, (int)r1);
      for (int64_t i = 0; i < rows; i++) {
        float *row = dS + i * r1;
        const float *prow = Pb + i * T;
        const int64_t visible = r0 + i + 1;
        const float r = dot_lanes(row, prow, visible);
        for (int64_t j = 0; j < visible; j++) row[j] = prow[j] * (row[j] - r);
        for (int64_t j = visible; j < r1; j++) row[j] = 0.0f;
      }
      /* dQ[r0:r1] = scale·dS·K[0:r1];  dK[0:r1] += scale·dSᵀ·Q[r0:r1] */
      a->gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)Dh, (int)r1, a->scale, dS, (int)r1, k, (int)ld, 0.0f, dq + r0 * ld, (int)ld);
      a->gemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)r1, (int)Dh, (int)rows, a->scale, dS, (int)r1, q + r0 * ld, (int)ld, 1.0f, dk, (int)ld);
    }
  }
  free(dS);
}

static napi_value CausalAttentionGrad(napi_env env, napi_callback_info info) {
  const char *name = "causalAttentionGrad";
  napi_value argv[21];
  if (get_args(env, info, 21, argv, name)) return NULL;
  attn_dims d;
  float *q, *k, *v, *p, *dy, *dq, *dk, *dv;
  if (get_attn_dims(env, argv, name, &d) || get_tensor(env, argv + 5, name, "Q", d.n, &q) || get_tensor(env, argv + 7, name, "K", d.n, &k) ||
      get_tensor(env, argv + 9, name, "V", d.n, &v) || get_tensor(env, argv + 11, name, "P", d.nP, &p) ||
      get_tensor(env, argv + 13, name, "DY", d.n, &dy) || get_tensor(env, argv + 15, name, "DQ", d.n, &dq) ||
      get_tensor(env, argv + 17, name, "DK", d.n, &dk) || get_tensor(env, argv + 19, name, "DV", d.n, &dv))
    return NULL;
  const float *ins[5] = {q, k, v, dy, p};
  const int64_t in_n[5] = {d.n, d.n, d.n, d.n, d.nP};
  float *outs[3] = {dq, dk, dv};
  for (int o = 0; o < 3; o++) {
    for (int i = 0; i < 5; i++)
      if (overlaps(ins[i], in_n[i], outs[o], d.n)) return throw_range(env, "%s: an output overlaps an input", name);
    for (int o2 = o + 1; o2 < 3; o2++)
      if (overlaps(outs[o], d.n, outs[o2], d.n)) return throw_range(env, "%s: the outputs overlap", name);
  }
  if (d.n == 0 || d.T == 0) return NULL;
  attn_grad_ctx a = {use_own_gemm() ? saeboard_own_sgemm : cblas_sgemm, q, k, v, p, dy, dq, dk, dv, d.H, d.T, d.Dh, (float)d.scale, 0};
  set_gemm_threads(1);
  /* a task is one pair: four products of about T²/2 × Dh multiply-adds */
  parallel_for(d.X, (int64_t)ceil(BATCH_SPLIT_MIN_PART / (double)(4 * d.T * (d.T / 2 + 1) * d.Dh + 1)), attn_grad_tasks, &a);
  set_gemm_threads(g_threads);
  if (a.failed) return throw_range(env, "%s: out of memory", name);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* LayerNorm over the last axis (C), as torch.nn.functional.layer_norm (biased variance).     */
/* layerNorm(X, xOff, rows, cols, gamma|null, gOff, beta|null, bOff, eps, Y, yOff,            */
/*           STATS, statsOff)                                                                 */
/*   Y = (X - mean) * rstd * gamma + beta; STATS[2r] = mean_r, STATS[2r+1] = rstd_r (saved    */
/*   for the backward pass).                                                                  */
/* layerNormGrad(X, xOff, DY, dyOff, rows, cols, gamma|null, gOff, STATS, statsOff,           */
/*               DX, dxOff, DGAMMA|null, dgOff, DBETA|null, dbOff)                            */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
  const float *x, *dy, *gamma, *beta, *stats;
  float *y, *out_stats, *dx;
  int64_t cols;
  float eps;
  /* per-part partial sums for dgamma/dbeta (2 * cols doubles per part: row counts reach 10^4+) */
  double *partials;
} ln_ctx;

#define LN_LANES 8

VECTOR_CLONES static void ln_forward_rows(void *p, int64_t r0, int64_t r1, int part) {
  const ln_ctx *k = (const ln_ctx *)p;
  const int64_t C = k->cols;
  for (int64_t r = r0; r < r1; r++) {
    const float *x = k->x + r * C;
    float *y = k->y + r * C;
    /* two-pass in double for the statistics, in 8 running lanes so the loops vectorise */
    double acc[LN_LANES] = {0};
    int64_t j = 0;
    for (; j + LN_LANES <= C; j += LN_LANES)
      for (int l = 0; l < LN_LANES; l++) acc[l] += x[j + l];
    double s = 0;
    for (; j < C; j++) s += x[j];
    for (int l = 0; l < LN_LANES; l++) s += acc[l];
    const double mean = s / (double)C;
    double accv[LN_LANES] = {0};
    for (j = 0; j + LN_LANES <= C; j += LN_LANES)
      for (int l = 0; l < LN_LANES; l++) {
        const double d = x[j + l] - mean;
        accv[l] += d * d;
      }
    double v = 0;
    for (; j < C; j++) {
      const double d = x[j] - mean;
      v += d * d;
    }
    for (int l = 0; l < LN_LANES; l++) v += accv[l];
    const float rstd = (float)(1.0 / sqrt(v / (double)C + (double)k->eps));
    const float m = (float)mean;
    const float *gamma = k->gamma, *beta = k->beta;
    if (gamma && beta)
      for (j = 0; j < C; j++) y[j] = (x[j] - m) * rstd * gamma[j] + beta[j];
    else if (gamma)
      for (j = 0; j < C; j++) y[j] = (x[j] - m) * rstd * gamma[j];
    else if (beta)
      for (j = 0; j < C; j++) y[j] = (x[j] - m) * rstd + beta[j];
    else
      for (j = 0; j < C; j++) y[j] = (x[j] - m) * rstd;
    k->out_stats[2 * r] = m;
    k->out_stats[2 * r + 1] = rstd;
  }
}

VECTOR_CLONES static void ln_backward_rows(void *p, int64_t r0, int64_t r1, int part) {
  const ln_ctx *k = (const ln_ctx *)p;
  const int64_t C = k->cols;
  double *dgamma = k->partials + (int64_t)part * 2 * C;
  double *dbeta = dgamma + C;
  for (int64_t j = 0; j < 2 * C; j++) dgamma[j] = 0.0;
  for (int64_t r = r0; r < r1; r++) {
    const float *x = k->x + r * C, *dy = k->dy + r * C;
    float *dx = k->dx + r * C;
    const float mean = k->stats[2 * r], rstd = k->stats[2 * r + 1];
    /* means of dxhat and of dxhat * xhat, in double over 8 running lanes (vectorised) */
    double ag[LN_LANES] = {0}, agx[LN_LANES] = {0};
    double sum_g = 0, sum_gx = 0;
    int64_t j = 0;
    for (; j + LN_LANES <= C; j += LN_LANES)
      for (int l = 0; l < LN_LANES; l++) {
        const float xhat = (x[j + l] - mean) * rstd;
        const float g = k->gamma ? dy[j + l] * k->gamma[j + l] : dy[j + l];
        ag[l] += g;
        agx[l] += (double)g * xhat;
      }
    for (; j < C; j++) {
      const float xhat = (x[j] - mean) * rstd;
      const float g = k->gamma ? dy[j] * k->gamma[j] : dy[j];
      sum_g += g;
      sum_gx += (double)g * xhat;
    }
    for (int l = 0; l < LN_LANES; l++) sum_g += ag[l], sum_gx += agx[l];
    for (j = 0; j < C; j++) {
      const float xhat = (x[j] - mean) * rstd;
      dgamma[j] += dy[j] * xhat;
      dbeta[j] += dy[j];
    }
    const float mg = (float)(sum_g / (double)C), mgx = (float)(sum_gx / (double)C);
    for (j = 0; j < C; j++) {
      const float xhat = (x[j] - mean) * rstd;
      const float g = k->gamma ? dy[j] * k->gamma[j] : dy[j];
      dx[j] = rstd * (g - mg - xhat * mgx);
    }
  }
}

/* An optional vector of `cols` floats: argv[i] a buffer or null/undefined, argv[i + 1] its offset.
 * *out is NULL for null; `what` and `what_off` name the two in errors. */
static int get_optional_vec(napi_env env, napi_value *argv, int i, const char *what, const char *what_off, int64_t cols, float **out) {
  *out = NULL;
  if (is_nullish(env, argv[i])) return 0;
  fbuf b;
  int64_t off;
  if (get_fbuf(env, argv[i], what, &b) || get_index(env, argv[i + 1], what_off, MAX_INDEX, &off) || check_range(env, &b, off, cols, what))
    return -1;
  *out = b.data + off;
  return 0;
}

static napi_value LayerNorm(napi_env env, napi_callback_info info) {
  napi_value argv[13];
  if (get_args(env, info, 13, argv, "layerNorm")) return NULL;
  fbuf X, Y, S;
  int64_t xOff, rows, cols, yOff, sOff;
  double eps;
  if (get_fbuf(env, argv[0], "layerNorm X", &X) || get_index(env, argv[1], "layerNorm xOffset", MAX_INDEX, &xOff) ||
      get_index(env, argv[2], "layerNorm rows", MAX_INDEX, &rows) ||
      get_index(env, argv[3], "layerNorm cols", INT32_MAX, &cols) ||
      get_number(env, argv[8], "layerNorm eps", &eps) || get_fbuf(env, argv[9], "layerNorm Y", &Y) ||
      get_index(env, argv[10], "layerNorm yOffset", MAX_INDEX, &yOff) ||
      get_fbuf(env, argv[11], "layerNorm stats", &S) ||
      get_index(env, argv[12], "layerNorm statsOffset", MAX_INDEX, &sOff))
    return NULL;
  float *gamma, *beta;
  if (get_optional_vec(env, argv, 4, "layerNorm gamma", "layerNorm gammaOffset", cols, &gamma) ||
      get_optional_vec(env, argv, 6, "layerNorm beta", "layerNorm betaOffset", cols, &beta))
    return NULL;
  if (!(eps >= 0) || !isfinite(eps)) return throw_range(env, "layerNorm: eps must be a finite number >= 0");
  if (cols == 0) return throw_range(env, "layerNorm: the normalised axis is empty");
  if ((double)rows * (double)cols > MAX_INDEX) return throw_range(env, "layerNorm: input too large");
  const int64_t n = rows * cols;
  if (check_range(env, &X, xOff, n, "layerNorm X") || check_range(env, &Y, yOff, n, "layerNorm Y") ||
      check_range(env, &S, sOff, 2 * rows, "layerNorm stats"))
    return NULL;
  ln_ctx k = {0};
  k.x = X.data + xOff;
  k.y = Y.data + yOff;
  k.gamma = gamma;
  k.beta = beta;
  k.out_stats = S.data + sOff;
  k.cols = cols;
  k.eps = (float)eps;
  if (overlaps(k.x, n, k.y, n) || overlaps(k.out_stats, 2 * rows, k.y, n) || overlaps(k.out_stats, 2 * rows, k.x, n) ||
      (k.gamma && (overlaps(k.gamma, cols, k.y, n) || overlaps(k.gamma, cols, k.out_stats, 2 * rows))) ||
      (k.beta && (overlaps(k.beta, cols, k.y, n) || overlaps(k.beta, cols, k.out_stats, 2 * rows))))
    return throw_range(env, "layerNorm: outputs overlap inputs");
  parallel_for(rows, PARALLEL_GRAIN / cols + 1, ln_forward_rows, &k);
  return NULL;
}

static napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  napi_value argv[16];
  if (get_args(env, info, 16, argv, "layerNormGrad")) return NULL;
  fbuf X, DY, S, DX;
  int64_t xOff, dyOff, rows, cols, sOff, dxOff;
  if (get_fbuf(env, argv[0], "layerNormGrad X", &X) ||
      get_index(env, argv[1], "layerNormGrad xOffset", MAX_INDEX, &xOff) ||
      get_fbuf(env, argv[2], "layerNormGrad DY", &DY) ||
      get_index(env, argv[3], "layerNormGrad dyOffset", MAX_INDEX, &dyOff) ||
      get_index(env, argv[4], "layerNormGrad rows", MAX_INDEX, &rows) ||
      get_index(env, argv[5], "layerNormGrad cols", INT32_MAX, &cols) ||
      get_fbuf(env, argv[8], "layerNormGrad stats", &S) ||
      get_index(env, argv[9], "layerNormGrad statsOffset", MAX_INDEX, &sOff) ||
      get_fbuf(env, argv[10], "layerNormGrad DX", &DX) ||
      get_index(env, argv[11], "layerNormGrad dxOffset", MAX_INDEX, &dxOff))
    return NULL;
  if (cols == 0) return throw_range(env, "layerNormGrad: the normalised axis is empty");
  if ((double)rows * (double)cols > MAX_INDEX) return throw_range(env, "layerNormGrad: input too large");
  const int64_t n = rows * cols;
  float *gamma, *dgamma, *dbeta;
  if (get_optional_vec(env, argv, 6, "layerNormGrad gamma", "layerNormGrad gammaOffset", cols, &gamma) ||
      get_optional_vec(env, argv, 12, "layerNormGrad DGAMMA", "layerNormGrad dgammaOffset", cols, &dgamma) ||
      get_optional_vec(env, argv, 14, "layerNormGrad DBETA", "layerNormGrad dbetaOffset", cols, &dbeta))
    return NULL;
  if (check_range(env, &X, xOff, n, "layerNormGrad X") || check_range(env, &DY, dyOff, n, "layerNormGrad DY") ||
      check_range(env, &S, sOff, 2 * rows, "layerNormGrad stats") ||
      check_range(env, &DX, dxOff, n, "layerNormGrad DX"))
    return NULL;
  float *dx = DX.data + dxOff;
  if (overlaps(X.data + xOff, n, dx, n) || overlaps(DY.data + dyOff, n, dx, n) ||
      overlaps(S.data + sOff, 2 * rows, dx, n) || (gamma && overlaps(gamma, cols, dx, n)))
    return throw_range(env, "layerNormGrad: DX overlaps an input");
  /* DGAMMA/DBETA are written after all reads, but must not overlap DX or each other */
  if ((dgamma && overlaps(dgamma, cols, dx, n)) || (dbeta && overlaps(dbeta, cols, dx, n)) ||
      (dgamma && dbeta && overlaps(dgamma, cols, dbeta, cols)))
    return throw_range(env, "layerNormGrad: gradient outputs overlap");
  int parts = g_threads < MAX_PARTS ? g_threads : MAX_PARTS;
  double *partials = (double *)calloc((size_t)parts * 2 * (size_t)cols, sizeof(double));
  if (!partials) return throw_range(env, "layerNormGrad: out of memory");
  ln_ctx k = {0};
  k.x = X.data + xOff;
  k.dy = DY.data + dyOff;
  k.gamma = gamma;
  k.stats = S.data + sOff;
  k.dx = dx;
  k.cols = cols;
  k.partials = partials;
  const int used = parallel_for(rows, PARALLEL_GRAIN / cols + 1, ln_backward_rows, &k);
  for (int64_t j = 0; j < cols; j++) {
    double g = 0, b = 0;
    for (int p = 0; p < used; p++) {
      g += partials[(int64_t)p * 2 * cols + j];
      b += partials[(int64_t)p * 2 * cols + cols + j];
    }
    if (dgamma) dgamma[j] = (float)g;
    if (dbeta) dbeta[j] = (float)b;
  }
  free(partials);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Adam / AdamW step (torch.optim.Adam(W) order of operations, float32 throughout):            */
/*   m' = b1·m + (1−b1)·g;  v' = b2·v + (1−b2)·g²                                              */
/*   p' = p·decay − stepSize · m' / (√v' / bc2Sqrt + eps)                                      */
/* adam(P, pOff, G, gOff, M, mOff, V, vOff, n, [b1, b2, eps, stepSize, bc2Sqrt, decay],         */
/*      OUTP, opOff, OUTM, omOff, OUTV, ovOff)                                                */
/* Each elementwise op rounds to float32 as the composed tfjs ops do (no FMA contraction), so  */
/* results match them bit for bit. Outputs must not overlap inputs or each other.              */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
  const float *p, *g, *m, *v;
  float *op, *om, *ov;
  float b1, one_minus_b1, b2, one_minus_b2, eps, step_size, bc2_sqrt, decay;
  int apply_decay;
} adam_ctx;

/* restrict parameters (GCC ignores restrict on block-scope copies): the caller checked that no
 * output overlaps anything, so the loop vectorises without runtime alias checks, which GCC gives
 * up on for seven pointers. */
static void adam_block(int64_t n, const float *restrict p, const float *restrict g, const float *restrict m,
                       const float *restrict v, float *restrict op, float *restrict om, float *restrict ov, float b1,
                       float c1, float b2, float c2, float eps, float step, float bc2, float decay, int apply_decay) {
  if (apply_decay) {
    for (int64_t i = 0; i < n; i++) {
      const float m2 = m[i] * b1 + g[i] * c1;
      const float v2 = v[i] * b2 + (g[i] * g[i]) * c2;
      op[i] = p[i] * decay - (m2 / (sqrtf(v2) / bc2 + eps)) * step;
      om[i] = m2;
      ov[i] = v2;
    }
  } else {
    for (int64_t i = 0; i < n; i++) {
      const float m2 = m[i] * b1 + g[i] * c1;
      const float v2 = v[i] * b2 + (g[i] * g[i]) * c2;
      op[i] = p[i] - (m2 / (sqrtf(v2) / bc2 + eps)) * step;
      om[i] = m2;
      ov[i] = v2;
    }
  }
}

VECTOR_CLONES static void adam_range(void *ctx, int64_t i0, int64_t i1, int part) {
  const adam_ctx *k = (const adam_ctx *)ctx;
  adam_block(i1 - i0, k->p + i0, k->g + i0, k->m + i0, k->v + i0, k->op + i0, k->om + i0, k->ov + i0, k->b1,
             k->one_minus_b1, k->b2, k->one_minus_b2, k->eps, k->step_size, k->bc2_sqrt, k->decay, k->apply_decay);
}

static napi_value Adam(napi_env env, napi_callback_info info) {
  napi_value argv[16];
  if (get_args(env, info, 16, argv, "adam")) return NULL;
  fbuf P, G, M, V, OP, OM, OV;
  int64_t pOff, gOff, mOff, vOff, n, opOff, omOff, ovOff;
  if (get_fbuf(env, argv[0], "adam P", &P) || get_index(env, argv[1], "adam pOffset", MAX_INDEX, &pOff) ||
      get_fbuf(env, argv[2], "adam G", &G) || get_index(env, argv[3], "adam gOffset", MAX_INDEX, &gOff) ||
      get_fbuf(env, argv[4], "adam M", &M) || get_index(env, argv[5], "adam mOffset", MAX_INDEX, &mOff) ||
      get_fbuf(env, argv[6], "adam V", &V) || get_index(env, argv[7], "adam vOffset", MAX_INDEX, &vOff) ||
      get_index(env, argv[8], "adam n", MAX_INDEX, &n) || get_fbuf(env, argv[10], "adam OUTP", &OP) ||
      get_index(env, argv[11], "adam outPOffset", MAX_INDEX, &opOff) || get_fbuf(env, argv[12], "adam OUTM", &OM) ||
      get_index(env, argv[13], "adam outMOffset", MAX_INDEX, &omOff) || get_fbuf(env, argv[14], "adam OUTV", &OV) ||
      get_index(env, argv[15], "adam outVOffset", MAX_INDEX, &ovOff))
    return NULL;
  size_t hlen = 0;
  void *hdata = NULL;
  const int ta = get_typed_array(env, argv[9], napi_float64_array, &hdata, &hlen);
  if (ta < 0) return NULL;
  if (!ta || hlen != 6)
    return throw_type(env, "adam: hyper-parameters must be a Float64Array [beta1, beta2, eps, stepSize, bc2Sqrt, decay]");
  const double *h = (const double *)hdata;
  for (int i = 0; i < 6; i++)
    if (!isfinite(h[i])) return throw_range(env, "adam: hyper-parameter %d is not finite", i);
  if (!(h[4] > 0)) return throw_range(env, "adam: bc2Sqrt must be > 0");
  if (check_range(env, &P, pOff, n, "adam P") || check_range(env, &G, gOff, n, "adam G") ||
      check_range(env, &M, mOff, n, "adam M") || check_range(env, &V, vOff, n, "adam V") ||
      check_range(env, &OP, opOff, n, "adam OUTP") || check_range(env, &OM, omOff, n, "adam OUTM") ||
      check_range(env, &OV, ovOff, n, "adam OUTV"))
    return NULL;
  adam_ctx k;
  k.p = P.data + pOff;
  k.g = G.data + gOff;
  k.m = M.data + mOff;
  k.v = V.data + vOff;
  k.op = OP.data + opOff;
  k.om = OM.data + omOff;
  k.ov = OV.data + ovOff;
  const float *ins[4] = {k.p, k.g, k.m, k.v};
  float *outs[3] = {k.op, k.om, k.ov};
  for (int o = 0; o < 3; o++) {
    for (int i = 0; i < 4; i++)
      if (overlaps(ins[i], n, outs[o], n)) return throw_range(env, "adam: an output overlaps an input");
    for (int j = o + 1; j < 3; j++)
      if (overlaps(outs[o], n, outs[j], n)) return throw_range(env, "adam: outputs overlap each other");
  }
  k.b1 = (float)h[0];
  k.one_minus_b1 = (float)(1.0 - h[0]);
  k.b2 = (float)h[1];
  k.one_minus_b2 = (float)(1.0 - h[1]);
  k.eps = (float)h[2];
  k.step_size = (float)h[3];
  k.bc2_sqrt = (float)h[4];
  k.decay = (float)h[5];
  k.apply_decay = h[5] != 1.0;
  parallel_for(n, PARALLEL_GRAIN, adam_range, &k);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* info() and setThreads(n)                                                                    */
/* ------------------------------------------------------------------------------------------ */

static napi_value set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  if (napi_create_string_utf8(env, value ? value : "", NAPI_AUTO_LENGTH, &v) != napi_ok) return NULL;
  if (napi_set_named_property(env, obj, key, v) != napi_ok) return NULL;
  return obj;
}

static napi_value set_int(napi_env env, napi_value obj, const char *key, int value) {
  napi_value v;
  if (napi_create_int32(env, value, &v) != napi_ok) return NULL;
  if (napi_set_named_property(env, obj, key, v) != napi_ok) return NULL;
  return obj;
}

/* which GEMM the build links: OpenBLAS, or native/gemm/own_sgemm.c (SAEBOARD_BLAS=none) */
#ifdef SAEBOARD_OWN_SGEMM
#define SAEBOARD_BLAS_NAME "own"
#else
#define SAEBOARD_BLAS_NAME "openblas"
#endif

static napi_value Info(napi_env env, napi_callback_info info) {
  napi_value obj;
  NAPI_TRY(napi_create_object(env, &obj));
  char *config = openblas_get_config();
  char *core = openblas_get_corename();
  if (!set_string(env, obj, "config", config) || !set_string(env, obj, "corename", core) ||
      !set_int(env, obj, "blasThreads", openblas_get_num_threads()) ||
      !set_int(env, obj, "procs", openblas_get_num_procs()) ||
      !set_int(env, obj, "parallel", openblas_get_parallel()) || !set_int(env, obj, "threads", g_threads) ||
      !set_string(env, obj, "blas", SAEBOARD_BLAS_NAME) ||
      !set_string(env, obj, "gemm", strcmp(SAEBOARD_BLAS_NAME, "own") == 0 || use_own_gemm() ? "own" : "openblas") ||
      !set_string(env, obj, "ownKernel", saeboard_own_kernel_name()))
    return NULL;
  return obj;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1) return throw_type(env, "setThreads: expected 1 argument");
  int64_t n;
  if (get_index(env, argv[0], "setThreads n", 1024, &n)) return NULL;
  if (n < 1) return throw_range(env, "setThreads: n must be >= 1");
  set_gemm_threads((int)n);
  g_threads = (int)n;
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  g_threads = openblas_get_num_threads();
  if (g_threads < 1) g_threads = 1;
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"biasAct", NULL, BiasAct, NULL, NULL, NULL, napi_default, NULL},
      {"gelu", NULL, Gelu, NULL, NULL, NULL, napi_default, NULL},
      {"geluGrad", NULL, GeluGrad, NULL, NULL, NULL, napi_default, NULL},
      {"geluErf", NULL, GeluErf, NULL, NULL, NULL, napi_default, NULL},
      {"geluErfGrad", NULL, GeluErfGrad, NULL, NULL, NULL, napi_default, NULL},
      {"softmax", NULL, Softmax, NULL, NULL, NULL, napi_default, NULL},
      {"softmaxGrad", NULL, SoftmaxGrad, NULL, NULL, NULL, napi_default, NULL},
      {"causalAttention", NULL, CausalAttention, NULL, NULL, NULL, napi_default, NULL},
      {"causalAttentionTrain", NULL, CausalAttentionTrain, NULL, NULL, NULL, napi_default, NULL},
      {"causalAttentionGrad", NULL, CausalAttentionGrad, NULL, NULL, NULL, napi_default, NULL},
      {"layerNorm", NULL, LayerNorm, NULL, NULL, NULL, napi_default, NULL},
      {"layerNormGrad", NULL, LayerNormGrad, NULL, NULL, NULL, napi_default, NULL},
      {"adam", NULL, Adam, NULL, NULL, NULL, napi_default, NULL},
      {"colSum", NULL, ColSum, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, Info, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
