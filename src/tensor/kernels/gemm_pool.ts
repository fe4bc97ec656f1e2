/**
 * Large matmuls on saeboard's WebAssembly SGEMM (native/wasm/sgemm.wasm), split over worker
 * threads, for installs without the native addon (no C compiler, no fitting prebuilt).
 *
 * tfjs-backend-wasm's own threads do not start under Node, and its XNNPACK A·B runs at ~30 GFLOPS
 * on one core, its transposed forms only after explicit transposes; two threads of it slowed each
 * other by ~25 %. The wasm SGEMM takes every transpose form in its packing, runs at ~40 GFLOPS a
 * thread and does not slow a second thread. Every thread (the caller and `threads − 1` workers)
 * instantiates it over one shared WebAssembly.Memory: the caller copies op(A) and op(B) in, the
 * threads compute C in place (rows or columns of C in chunks taken in turn, or one part of K
 * each: chooseSplit), and the caller copies C out (adding the K partials), waiting for the
 * workers with Atomics.wait. A sparse operand (a top-k SAE's activations) is compressed by rows
 * and multiplied as sums of rows; maskedMatMul computes (A·Bᵀ) ⊙ S only where S is nonzero.
 *
 *   await startGemmPool(2);          // once, after the wasm backend is up (initBackend does it)
 *   gemmPool()?.matMul(...)           // from the js matmul kernels (matmul.ts)
 *
 * One thread is a pool too (no workers): large products still take the wasm SGEMM. A pool that
 * cannot start, or a worker that fails, turns the pool off with a logged reason; the matmuls then
 * run on tfjs' own kernels on the main thread.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PROJECT_ROOT } from '../../version.js';

export const WASM_SGEMM_PATH = path.join(PROJECT_ROOT, 'native', 'wasm', 'sgemm.wasm');

/** The part of the WebAssembly JS API used here (its types live in lib.dom, which this Node code does not load). */
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
} }).WebAssembly;

/** How a product is split: by rows of C, by columns of C, or along the reduction axis K. */
export type Split = 'rows' | 'cols' | 'k';
const SPLIT_CODE: Record<Split, number> = { rows: 0, cols: 1, k: 2 };

/**
 * Rows of C by default; columns when C is wider than tall (each thread then packs only its part
 * of op(B)); K when the reduction is the longest axis (the SAE's x̂ = f·W_dec, K = 4096), each
 * thread packing half of both operands, the partials summed by the caller.
 */
export function chooseSplit(M: number, N: number, K: number): Split {
  if (K > M && K > N) return 'k';
  return N > M ? 'cols' : 'rows';
}

/**
 * Chunks a thread of a row, column or sparse job is cut into, taken in turn: a thread the VM slows
 * does less (standard SAE step without the addon, 2 threads, alternating runs: 1 chunk a thread
 * 883–1,109 ms by medians, 8 chunks 777–1,119 ms, 16 chunks 820–864 ms).
 */
const CHUNKS_PER_THREAD = 8;

/** Products below this many multiply-adds stay on tfjs' kernels (the copies would cost more). */
export const MIN_POOL_WORK = 1 << 24;

/**
 * One block of a product on one thread's instance (its exports `ex`): rows lo..hi of C = op(A)·op(B)
 * (split 0), columns lo..hi (1), the partial product over K's lo..hi added to c (2); with a sparse
 * operand's compressed rows (rowptr, cols, vals), rows lo..hi of C = S·B (3: S [M×·], B [·×N]),
 * or of C = (A·Bᵀ) ⊙ S (4: A [M×K], B [N×K]); rows lo..hi of the top-K mask of A [M×N] into c
 * (5). Byte addresses in the shared memory; op(A) is
 * [M, K] (A stored [K, M] when tA), op(B) [K, N] (stored [N, K] when tB). Source text, as the
 * workers run it too.
 */
const GEMM_BLOCK_SOURCE = `function gemmBlock(ex, split, lo, hi, M, N, K, tA, tB, a, b, c, scratch, rowptr, cols, vals) {
  const lda = tA ? M : K, ldb = tB ? K : N;
  if (split === 0) ex.sgemm(tA, tB, hi - lo, N, K, a + 4 * (tA ? lo : lo * lda), lda, b, ldb, c + 4 * lo * N, N, 0, scratch);
  else if (split === 1) ex.sgemm(tA, tB, M, hi - lo, K, a, lda, b + 4 * (tB ? lo * ldb : lo), ldb, c + 4 * lo, N, 0, scratch);
  else if (split === 2) ex.sgemm(tA, tB, M, N, hi - lo, a + 4 * (tA ? lo * lda : lo), lda, b + 4 * (tB ? lo : lo * ldb), ldb, c, N, 1, scratch);
  else if (split === 3) ex.spmm_rows(lo, hi, N, rowptr, cols, vals, b, N, c, N);
  else if (split === 4) ex.sddmm_rows(lo, hi, N, K, rowptr, cols, vals, a, K, b, K, c, N);
  else ex.topk_mask_rows(lo, hi, N, K, a, N, c, N, scratch);
}`;
/** One product's work for gemmBlock on every thread: its rows, columns or K, 0..extent, in chunks. */
interface PoolJob {
  code: number;
  extent: number;
  M: number;
  N: number;
  K: number;
  a: number;
  b: number;
  /** where thread t writes */
  out: (t: number) => number;
  /** a sparse operand's compressed rows (0 for the dense jobs) */
  csr: { rowptr: number; cols: number; vals: number };
  /** and what it computes: 'sparse-b' computes Cᵀ */
  path: PoolPath;
}
/** How a product ran: its split, which operand was sparse, or a masked product. */
export type PoolPath = Split | 'sparse-a' | 'sparse-b' | 'masked' | 'topk';
const NO_CSR = { rowptr: 0, cols: 0, vals: 0 };
type WasmExports = Record<'sgemm' | 'spmm_rows' | 'sddmm_rows' | 'transpose' | 'topk_mask_rows', (...args: number[]) => void> & {
  gemm_scratch_floats: () => number;
  count_nonzero: (transA: number, r0: number, r1: number, K: number, A: number, lda: number) => number;
  csr_build: (transA: number, M: number, K: number, A: number, lda: number, rowptr: number, cols: number, vals: number) => void;
};
type GemmBlock = (ex: WasmExports, split: number, lo: number, hi: number, M: number, N: number, K: number, tA: number, tB: number, a: number, b: number, c: number, scratch: number, rowptr: number, cols: number, vals: number) => void;
const gemmBlock = new Function(`${GEMM_BLOCK_SOURCE}\nreturn gemmBlock;`)() as GemmBlock;
/** split codes of the sparse blocks (gemmBlock): S·B and (A·Bᵀ) ⊙ S; the top-k mask */
const SPARSE_ROWS = 3;
const MASKED_ROWS = 4;
const TOPK_ROWS = 5;
/** topk_mask_rows' sample of a row (its scratch holds the row and the sample) */
const TOPK_SAMPLE = 128;

/**
 * op(A) at most this dense (and op(B) not transposed) takes the sparse path: a top-k SAE's
 * activations are k/F dense (64/4096), a ReLU's at initialisation about half.
 */
export const SPARSE_MAX_DENSITY = 1 / 16;
/** Rows of op(A) counted first, to skip the full count for dense operands. */
const SPARSE_PROBE_ROWS = 32;

/** Per-worker control words in the shared Int32Array. */
const SLOT = 16;
const W_STATE = 0; // see State
const W_SPLIT = 1; // gemmBlock's split code
const W_EXTENT = 2; // the job's rows, columns or K indices: 0..extent
const W_CHUNKS = 3; // the extent is cut into this many chunks, taken in turn
const W_M = 4;
const W_N = 5;
const W_K = 6;
const W_TRANS_A = 7;
const W_TRANS_B = 8;
const W_A = 9; // byte addresses in the shared memory
const W_B = 10;
const W_C = 11; // C, or this worker's K partial
const W_ROWPTR = 12; // a sparse operand's compressed rows
const W_COLS = 13;
const W_VALS = 14;

const enum State {
  Starting = 0,
  Idle = 1,
  Job = 2,
  Done = 3,
  Failed = 4,
}

const PAGE = 65536;
/** Each instance's own stack (the SGEMM's code uses none; apart all the same). */
const STACK_BYTES = 65536;
const align64 = (bytes: number) => Math.ceil(bytes / 64) * 64;

// The worker: plain CommonJS (eval: true), so it runs the same from src/ under tsx and from dist/.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const ctrl = new Int32Array(workerData.ctrl);
const s = workerData.slot * ${SLOT};
${GEMM_BLOCK_SOURCE}
try {
  const instance = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } });
  instance.exports.__stack_pointer.value = workerData.stackTop;
  const ex = instance.exports;
  Atomics.store(ctrl, s + ${W_STATE}, ${State.Idle});
  Atomics.notify(ctrl, s + ${W_STATE});
  for (;;) {
    // sleep until the main thread posts a job (from Done it first goes back to Idle)
    for (let st = Atomics.load(ctrl, s + ${W_STATE}); st !== ${State.Job}; st = Atomics.load(ctrl, s + ${W_STATE})) {
      Atomics.wait(ctrl, s + ${W_STATE}, st);
    }
    try {
      const w = (i) => ctrl[s + i];
      const block = (lo, hi) => gemmBlock(ex, w(${W_SPLIT}), lo, hi, w(${W_M}), w(${W_N}), w(${W_K}), w(${W_TRANS_A}), w(${W_TRANS_B}), w(${W_A}), w(${W_B}), w(${W_C}), workerData.scratch, w(${W_ROWPTR}), w(${W_COLS}), w(${W_VALS}));
      const chunks = w(${W_CHUNKS}), extent = w(${W_EXTENT});
      for (let i = Atomics.add(ctrl, workerData.counter, 1); i < chunks; i = Atomics.add(ctrl, workerData.counter, 1)) block(Math.round((extent * i) / chunks), Math.round((extent * (i + 1)) / chunks));
      Atomics.store(ctrl, s + ${W_STATE}, ${State.Done});
    } catch (err) {
      process.stderr.write('saeboard gemm worker: ' + (err && err.stack || err) + '\\n');
      Atomics.store(ctrl, s + ${W_STATE}, ${State.Failed});
    }
    Atomics.notify(ctrl, s + ${W_STATE});
  }
} catch (err) {
  process.stderr.write('saeboard gemm worker: ' + (err && err.stack || err) + '\\n');
  Atomics.store(ctrl, s + ${W_STATE}, ${State.Failed});
  Atomics.notify(ctrl, s + ${W_STATE});
}
`;

/** One product for the pool: the operands as stored (row-major) and where C goes. */
export interface PoolProduct {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  /** A as stored: [M, K], or [K, M] when transA. */
  a: Float32Array;
  /** B as stored: [K, N], or [N, K] when transB. */
  b: Float32Array;
  /** C, [M, N] row-major: written in full. */
  c: Float32Array;
}

const WARM_UP_N = 256;
const WARM_UP_FLOATS = 6 * WARM_UP_N * WARM_UP_N;

/**
 * A few small calls of every export, so V8 has tiered each up from its baseline code (Liftoff,
 * ~4× slower here) before the first real product: V8 tiers a wasm function up after it has run a
 * while, and a 2048×4096×512 product ran its first calls at 27 GFLOPS instead of 41. The
 * optimised code is the module's, shared by every thread's instance.
 */
function warmUp(ex: WasmExports, memory: WasmMemory, scratch: number, at: number): void {
  const n = WARM_UP_N;
  const [a, b, c] = [at, at + 4 * n * n, at + 8 * n * n];
  const [rowptr, cols, vals] = [at + 12 * n * n, at + 16 * n * n, at + 20 * n * n];
  // a is a diagonal (n nonzeros), as a sparse operand
  const mem = new Float32Array(memory.buffer, a, 3 * n * n);
  mem.fill(0);
  for (let i = 0; i < n; i++) mem[i * n + i] = 1;
  for (let r = 0; r < 8; r++) {
    ex.sgemm(0, 0, n, n, n, a, n, b, n, c, n, 0, scratch);
    ex.count_nonzero(0, 0, n, n, a, n);
    ex.csr_build(0, n, n, a, n, rowptr, cols, vals);
    ex.spmm_rows(0, n, n, rowptr, cols, vals, b, n, c, n);
    ex.sddmm_rows(0, n, n, n, rowptr, cols, vals, b, n, b, n, c, n);
    ex.transpose(b, n, n, c);
    ex.topk_mask_rows(0, n, n, 8, b, n, c, n, scratch);
  }
}

export class GemmPool {
  private readonly ctrl: Int32Array;
  private readonly ex: WasmExports;
  private failedReason: string | null = null;
  /** How the last product ran (for tests and benches): its split, or which operand was sparse. */
  lastPath: PoolPath | null = null;

  private constructor(
    private readonly workers: Worker[],
    ctrlBuffer: SharedArrayBuffer,
    private readonly memory: WasmMemory,
    instance: WasmInstance,
    /** the caller's scratch, and where the operands start (after every thread's stack and scratch) */
    private readonly scratch: number,
    private readonly dataStart: number,
  ) {
    this.ctrl = new Int32Array(ctrlBuffer);
    this.ex = instance.exports as unknown as WasmExports;
  }

  /** Starts `threads − 1` workers on the wasm SGEMM and waits until each has instantiated it. */
  static async start(threads: number): Promise<GemmPool> {
    const count = Math.max(1, Math.min(threads, 64)) - 1;
    const module = new wasmApi.Module(readFileSync(WASM_SGEMM_PATH));
    const memory = new wasmApi.Memory({ initial: 2, maximum: PAGE, shared: true }); // up to 4 GiB
    // thread t (0: the caller): its stack below (t + 1)·STACK_BYTES, its scratch after all stacks
    const instanceAt = (t: number) => {
      const instance = new wasmApi.Instance(module, { env: { memory } });
      (instance.exports.__stack_pointer as { value: number }).value = (t + 1) * STACK_BYTES;
      return instance;
    };
    const main = instanceAt(0);
    const scratchBytes = align64(4 * (main.exports.gemm_scratch_floats as () => number)());
    const scratchAt = (t: number) => (count + 1) * STACK_BYTES + t * scratchBytes;
    const dataStart = align64(scratchAt(count + 1));
    memory.grow(Math.max(0, Math.ceil((dataStart + 4 * WARM_UP_FLOATS) / PAGE) - memory.buffer.byteLength / PAGE));
    warmUp(main.exports as unknown as WasmExports, memory, scratchAt(0), dataStart);
    // a slot per worker, then the chunk counter of the job running
    const ctrlBuffer = new SharedArrayBuffer(4 * SLOT * (count + 1));
    const ctrl = new Int32Array(ctrlBuffer);
    const workers = Array.from({ length: count }, (_, slot) => {
      const workerData = { ctrl: ctrlBuffer, slot, counter: SLOT * count, module, memory, stackTop: (slot + 2) * STACK_BYTES, scratch: scratchAt(slot + 1) };
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData });
      w.unref(); // blocked in Atomics.wait for good: must not keep the process alive
      return w;
    });
    const pool = new GemmPool(workers, ctrlBuffer, memory, main, scratchAt(0), dataStart);
    const errors = workers.map(
      (w, slot) =>
        new Promise<never>((_, reject) => {
          w.once('error', (err) => reject(new Error(`gemm worker ${slot}: ${err.message}`)));
          w.once('exit', (code) => reject(new Error(`gemm worker ${slot} exited (code ${code}) while starting`)));
        }),
    );
    const ready = Promise.all(
      workers.map(async (_, slot) => {
        const deadline = Date.now() + 60_000;
        for (;;) {
          const state = Atomics.load(ctrl, slot * SLOT + W_STATE);
          if (state === State.Idle) return;
          if (state === State.Failed) throw new Error(`gemm worker ${slot} failed to start (see stderr)`);
          if (Date.now() > deadline) throw new Error(`gemm worker ${slot} did not start within 60 s`);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }),
    );
    try {
      await Promise.race([ready, ...errors]);
    } catch (err) {
      await pool.close();
      throw err;
    }
    for (const e of errors) e.catch(() => undefined); // later exits are handled in matMul
    return pool;
  }

  /** Threads a product uses: the caller plus the workers. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** Why the pool turned itself off, or null while it works. */
  get failure(): string | null {
    return this.failedReason;
  }

  /** Grows the shared memory to at least `bytes`; false when it cannot (the caller falls back). */
  private ensureBytes(bytes: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return true;
    try {
      this.memory.grow(Math.ceil((bytes - have) / PAGE));
      return true;
    } catch {
      return false;
    }
  }

  /** Copies n floats of src into the shared memory at byte `at`. */
  private put(src: Float32Array, at: number, n: number): void {
    new Float32Array(this.memory.buffer).set(src.subarray(0, n), at / 4);
  }

  /** Copies n floats from the shared memory at byte `at` into dst. */
  private take(dst: Float32Array, at: number, n: number): void {
    dst.set(new Float32Array(this.memory.buffer, at, n));
  }

  /**
   * S's R rows (as count_nonzero reads them) compressed at byte `at`, for its nnz nonzeros: rowptr,
   * then the columns and values, 64-byte aligned; null when they do not fit.
   */
  private compress(sTrans: number, R: number, K: number, sAt: number, ld: number, nnz: number, at: number): PoolJob['csr'] | null {
    const cols = align64(at + 4 * (R + 1));
    const vals = align64(cols + 4 * nnz);
    if (!this.ensureBytes(vals + 4 * nnz)) return null;
    this.ex.csr_build(sTrans, R, K, sAt, ld, at, cols, vals);
    return { rowptr: at, cols, vals };
  }

  /**
   * C = op(A)·op(B) into p.c, split over the caller and the workers; false when the pool has
   * failed or the product does not fit in its memory (the caller then computes it alone). A
   * sparse operand (≤ SPARSE_MAX_DENSITY nonzero) is compressed by rows instead: a sparse op(A)
   * (op(B) not transposed) gives C's rows as sums of op(B)'s rows, a sparse op(B) (A transposed)
   * gives Cᵀ = op(B)ᵀ·op(A)ᵀ the same way, transposed at the end.
   */
  matMul(p: PoolProduct): boolean {
    if (this.failedReason) return false;
    const { M, N, K } = p;
    const aAt = this.dataStart;
    const bAt = aAt + align64(4 * M * K);
    const cAt = bAt + align64(4 * K * N);
    const freeAt = align64(cAt + 4 * M * N);
    if (!this.ensureBytes(freeAt)) return false;
    this.put(p.a, aAt, M * K);
    this.put(p.b, bAt, K * N);
    const tA = p.transA ? 1 : 0;
    const tB = p.transB ? 1 : 0;
    const job = this.sparseJob(p, aAt, bAt, cAt, freeAt) ?? this.denseJob(p, aAt, bAt, cAt);
    if (!job) return false;
    this.lastPath = job.path;
    if (!this.run(job, tA, tB)) return false;
    if (job.path === 'sparse-b') this.ex.transpose(job.out(0), N, M, cAt); // it computed Cᵀ
    const size = M * N;
    this.take(p.c, cAt, size);
    const mem = new Float32Array(this.memory.buffer);
    for (let t = 1; t < (job.code === SPLIT_CODE.k ? this.threads : 0); t++) {
      const partial = mem.subarray(job.out(t) / 4, job.out(t) / 4 + size);
      for (let i = 0; i < size; i++) p.c[i] += partial[i];
    }
    return true;
  }

  /**
   * C = (A·Bᵀ) ⊙ S for a sparse S (A [M, K], B [N, K], S and C [M, N], row-major): only S's
   * nonzero entries are computed, a dot product each. False when S is more than
   * SPARSE_MAX_DENSITY nonzero (a dense product is faster then), the pool has failed or the
   * operands do not fit; the caller then computes it otherwise.
   */
  maskedMatMul(p: { M: number; N: number; K: number; a: Float32Array; b: Float32Array; mask: Float32Array; c: Float32Array }): boolean {
    if (this.failedReason) return false;
    const { M, N, K } = p;
    const aAt = this.dataStart;
    const bAt = aAt + align64(4 * M * K);
    const maskAt = bAt + align64(4 * N * K);
    const cAt = maskAt + align64(4 * M * N);
    const rowptrAt = cAt + align64(4 * M * N);
    if (!this.ensureBytes(rowptrAt)) return false; // compress makes room for the compressed rows
    this.put(p.mask, maskAt, M * N);
    const nnz = this.sparseNonzeros(0, M, N, maskAt, N);
    const csr = nnz < 0 ? null : this.compress(0, M, N, maskAt, N, nnz, rowptrAt);
    if (!csr) return false;
    this.put(p.a, aAt, M * K);
    this.put(p.b, bAt, N * K);
    const job: PoolJob = { code: MASKED_ROWS, extent: M, M, N, K, a: aAt, b: bAt, out: () => cAt, csr, path: 'masked' };
    this.lastPath = job.path;
    if (!this.run(job, 0, 0)) return false;
    this.take(p.c, cAt, M * N);
    return true;
  }

  /**
   * The mask of each row's k largest entries of v [rows, cols] (1 where v ≥ the row's k-th largest
   * value, else 0) into out: a quickselect a row, rows in chunks over the threads. False when a row
   * does not fit a thread's scratch, the pool has failed or v does not fit.
   */
  topKMask(p: { rows: number; cols: number; k: number; v: Float32Array; out: Float32Array }): boolean {
    const { rows, cols, k } = p;
    if (this.failedReason || cols + TOPK_SAMPLE > this.ex.gemm_scratch_floats()) return false;
    const vAt = this.dataStart;
    const outAt = vAt + align64(4 * rows * cols);
    if (!this.ensureBytes(outAt + 4 * rows * cols)) return false;
    this.put(p.v, vAt, rows * cols);
    const job: PoolJob = { code: TOPK_ROWS, extent: rows, M: rows, N: cols, K: k, a: vAt, b: 0, out: () => outAt, csr: NO_CSR, path: 'topk' };
    this.lastPath = job.path;
    if (!this.run(job, 0, 0)) return false;
    this.take(p.out, outAt, rows * cols);
    return true;
  }

  /**
   * Runs a job: its extent (rows, columns or K) cut into CHUNKS_PER_THREAD chunks a thread that the
   * caller and the workers take in turn, so a thread the VM slows does less of it; along K each
   * thread adds its chunks into a partial of its own, zeroed first. False if a worker failed.
   */
  private run(job: PoolJob, tA: number, tB: number): boolean {
    const extent = job.extent;
    const chunks = Math.min(extent, this.threads * CHUNKS_PER_THREAD);
    const used = this.workers.length;
    if (job.code === SPLIT_CODE.k) {
      const mem = new Float32Array(this.memory.buffer);
      for (let t = 0; t < this.threads; t++) mem.fill(0, job.out(t) / 4, job.out(t) / 4 + job.M * job.N);
    }
    const counter = SLOT * this.workers.length;
    Atomics.store(this.ctrl, counter, 0);
    for (let w = 0; w < used; w++) {
      const s = w * SLOT;
      const c = this.ctrl;
      c[s + W_SPLIT] = job.code;
      c[s + W_EXTENT] = extent;
      c[s + W_CHUNKS] = chunks;
      c[s + W_M] = job.M;
      c[s + W_N] = job.N;
      c[s + W_K] = job.K;
      c[s + W_TRANS_A] = tA;
      c[s + W_TRANS_B] = tB;
      c[s + W_A] = job.a;
      c[s + W_B] = job.b;
      c[s + W_C] = job.out(w + 1);
      c[s + W_ROWPTR] = job.csr.rowptr;
      c[s + W_COLS] = job.csr.cols;
      c[s + W_VALS] = job.csr.vals;
      Atomics.store(c, s + W_STATE, State.Job);
      Atomics.notify(c, s + W_STATE);
    }
    const { rowptr, cols, vals } = job.csr;
    try {
      for (let i = Atomics.add(this.ctrl, counter, 1); i < chunks; i = Atomics.add(this.ctrl, counter, 1)) {
        const [lo, hi] = [Math.round((extent * i) / chunks), Math.round((extent * (i + 1)) / chunks)];
        gemmBlock(this.ex, job.code, lo, hi, job.M, job.N, job.K, tA, tB, job.a, job.b, job.out(0), this.scratch, rowptr, cols, vals);
      }
    } finally {
      this.waitAll(used); // never leave a worker writing while the operands may be replaced
    }
    return !this.failedReason;
  }

  /** The dense product split by rows, columns or K (chooseSplit); null when the K partials do not fit. */
  private denseJob(p: PoolProduct, aAt: number, bAt: number, cAt: number): PoolJob | null {
    const { M, N, K } = p;
    const split = chooseSplit(M, N, K);
    const extent = split === 'k' ? K : split === 'cols' ? N : M;
    // along K thread t writes its own partial (the caller's is C)
    const out = split === 'k' ? (t: number) => cAt + t * 4 * M * N : () => cAt;
    if (split === 'k' && !this.ensureBytes(out(this.threads))) return null;
    return { code: SPLIT_CODE[split], extent, M, N, K, a: aAt, b: bAt, out, csr: NO_CSR, path: split };
  }

  /**
   * The sparse-rows job when op(A) (op(B) not transposed) or op(B) (A transposed) is sparse, its
   * compressed rows built at `freeAt`; undefined when neither is (or they do not fit).
   */
  private sparseJob(p: PoolProduct, aAt: number, bAt: number, cAt: number, freeAt: number): PoolJob | undefined {
    const { M, N, K } = p;
    const tA = p.transA ? 1 : 0;
    const tB = p.transB ? 1 : 0;
    // the sparse operand S [R×K] (its rows: op(A)'s, or op(B)ᵀ's) and how it is stored
    const candidates = [
      tB ? null : { R: M, sAt: aAt, sTrans: tA, ld: tA ? M : K, dense: bAt, width: N, path: 'sparse-a' as const },
      tA ? { R: N, sAt: bAt, sTrans: tB ? 0 : 1, ld: tB ? K : N, dense: aAt, width: M, path: 'sparse-b' as const } : null,
    ];
    for (const c of candidates) {
      if (!c) continue;
      const nnz = this.sparseNonzeros(c.sTrans, c.R, K, c.sAt, c.ld);
      if (nnz < 0) continue;
      // Cᵀ goes after C, then the compressed rows
      const transposed = c.path === 'sparse-b';
      const outAt = transposed ? freeAt : cAt;
      const csr = this.compress(c.sTrans, c.R, K, c.sAt, c.ld, nnz, transposed ? align64(freeAt + 4 * M * N) : freeAt);
      if (!csr) return undefined;
      return { code: SPARSE_ROWS, extent: c.R, M: c.R, N: c.width, K, a: c.sAt, b: c.dense, out: () => outAt, csr, path: c.path };
    }
    return undefined;
  }

  /**
   * The count of nonzeros of S's R rows (S[i][p] = S[i·ld + p], or S[p·ld + i] when sTrans) when
   * it is sparse enough for the sparse path (its first rows counted first, so a dense operand
   * costs little), else −1.
   */
  private sparseNonzeros(sTrans: number, R: number, K: number, sAt: number, ld: number): number {
    const probeRows = Math.min(R, SPARSE_PROBE_ROWS);
    if (this.ex.count_nonzero(sTrans, 0, probeRows, K, sAt, ld) > SPARSE_MAX_DENSITY * probeRows * K) return -1;
    const nnz = this.ex.count_nonzero(sTrans, 0, R, K, sAt, ld);
    return nnz <= SPARSE_MAX_DENSITY * R * K ? nnz : -1;
  }

  private waitAll(used: number): void {
    for (let w = 0; w < used; w++) {
      const s = w * SLOT + W_STATE;
      let state = Atomics.load(this.ctrl, s);
      while (state === State.Job) {
        // a worker that died mid-job never answers: give up on the pool after a minute
        if (Atomics.wait(this.ctrl, s, State.Job, 60_000) === 'timed-out') {
          this.failedReason = `gemm worker ${w} did not answer within 60 s`;
          return;
        }
        state = Atomics.load(this.ctrl, s);
      }
      if (state === State.Failed) this.failedReason ??= `gemm worker ${w} failed (see stderr)`;
      else Atomics.store(this.ctrl, s, State.Idle);
    }
  }

  async close(): Promise<void> {
    this.failedReason ??= 'closed';
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

let pool: GemmPool | null = null;

/** The running pool, or null (not started, or failed). */
export function gemmPool(): GemmPool | null {
  return pool && !pool.failure ? pool : null;
}

/** Starts the pool for `threads` threads (1: the caller alone); replaces a running one. */
export async function startGemmPool(threads: number): Promise<GemmPool> {
  await stopGemmPool();
  pool = await GemmPool.start(threads);
  return pool;
}

export async function stopGemmPool(): Promise<void> {
  const p = pool;
  pool = null;
  if (p) await p.close();
}
