/**
 * Large matmuls split over worker threads, for installs without the native addon (no C compiler).
 *
 * tfjs-backend-wasm's own threads do not start under Node, so on `wasm+js` every GEMM ran on one
 * core at ~29 GFLOPS (XNNPACK, SIMD). This pool runs `threads − 1` worker threads, each with its
 * own tfjs wasm backend. A product C = op(A)·op(B) with at least MIN_POOL_WORK multiply-adds is
 * split by rows of C (by columns, or along K: chooseSplit): the caller (main thread) computes
 * the first block with its own kernels while each worker computes one of the others from A and B
 * copied into a SharedArrayBuffer, writing its block of C there. The main thread waits with
 * Atomics.wait (the kernels are synchronous).
 *
 *   await startGemmPool(2);          // once, after the wasm backend is up (initBackend does it)
 *   gemmPool()?.matMul(...)           // from the js matmul kernels (matmul.ts)
 *
 * A worker that fails (or a pool that cannot start) turns the pool off with a logged reason; the
 * matmuls then run on the main thread as before.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PROJECT_ROOT } from '../../version.js';

/** How a product is split: by rows of C, by columns of C, or along the reduction axis K. */
export type Split = 'rows' | 'cols' | 'k';
const SPLIT_CODE: Record<Split, number> = { rows: 0, cols: 1, k: 2 };

/**
 * Rows of C by default; columns when C is wider than tall (with few rows, as the SAE's
 * dW_enc = xᵀ·dPre, 512 × 4096, every worker would otherwise take in, and XNNPACK repack, all of a
 * large op(B)); K when the reduction is the longest axis (the SAE's x̂ = f·W_dec, K = 4096): each
 * thread then packs half of op(B) as weights, and side by side such halves ran ~15 % faster than
 * row halves ([2048, 2048]·[2048, 512] vs [1024, 4096]·[4096, 512], two processes at once). The
 * K partials are summed by the caller.
 */
export function chooseSplit(M: number, N: number, K: number): Split {
  if (K > M && K > N) return 'k';
  return N > M ? 'cols' : 'rows';
}

/**
 * Split by columns with A transposed and B not (the SAE's dW_enc = xᵀ·dPre, 512 × 4096 from
 * K = 2048), each block is computed flipped, (B blockᵀ·A)ᵀ: XNNPACK packs its right operand as
 * weights for every call, and [K, M] = 2048 × 512 packs and streams far better than a
 * [K, N/2] = 2048 × 2048 block used by only 512 rows (278 → ~200 ms a block, with the transposes).
 */
export function flipProduct(split: Split, transA: boolean, transB: boolean): boolean {
  return split === 'cols' && transA && !transB;
}

/** Products below this many multiply-adds stay on one thread (~1 ms of work at 29 GFLOPS). */
export const MIN_POOL_WORK = 1 << 24;

/** Per-worker control words in the shared Int32Array. */
const SLOT = 16;
const W_STATE = 0; // see State
const W_GENERATION = 1; // which data buffer the job refers to
const W_M0 = 2; // the start of this worker's part: a row or column of C, or an index of K
const W_M1 = 3; // one past its end
const W_M = 4;
const W_N = 5;
const W_K = 6;
const W_TRANS_A = 7;
const W_TRANS_B = 8;
const W_A_OFF = 9; // in floats, within the data buffer
const W_B_OFF = 10;
const W_C_OFF = 11; // the workers' blocks of C: rows lo..hi at + lo·N, columns lo..hi at + M·lo
const W_SPLIT = 12; // how the worker's lo..hi (W_M0, W_M1) split the product: a SPLIT_CODE
const W_FLIP = 13; // 1: compute the block flipped (flipProduct)

const enum State {
  Starting = 0,
  Idle = 1,
  Job = 2,
  Done = 3,
  Failed = 4,
}

// The worker: plain CommonJS (eval: true), so it runs the same from src/ under tsx and from dist/.
const WORKER_SOURCE = `
const { workerData, parentPort, receiveMessageOnPort } = require('node:worker_threads');
const { createRequire } = require('node:module');
const req = createRequire(workerData.base);
const tf = req('@tensorflow/tfjs');
req('@tensorflow/tfjs-backend-wasm');
const ctrl = new Int32Array(workerData.ctrl);
const s = workerData.slot * ${SLOT};
let data = null;
let generation = -1;
/** Columns c0..c0+width of the [rows, cols] matrix at data[off], gathered row by row. */
function columns(off, rows, cols, c0, width) {
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(data.subarray(off + r * cols + c0, off + r * cols + c0 + width), r * width);
  return out;
}
function run() {
  const g = ctrl[s + ${W_GENERATION}];
  while (generation !== g) {
    const msg = receiveMessageOnPort(parentPort);
    if (!msg) throw new Error('gemm worker: data buffer ' + g + ' was not sent');
    data = new Float32Array(msg.message.data);
    generation = msg.message.generation;
  }
  const m0 = ctrl[s + ${W_M0}], m1 = ctrl[s + ${W_M1}], Mtot = ctrl[s + ${W_M}], n = ctrl[s + ${W_N}], k = ctrl[s + ${W_K}];
  const transA = ctrl[s + ${W_TRANS_A}] === 1, transB = ctrl[s + ${W_TRANS_B}] === 1;
  const aOff = ctrl[s + ${W_A_OFF}], bOff = ctrl[s + ${W_B_OFF}], cOff = ctrl[s + ${W_C_OFF}];
  const split = ctrl[s + ${W_SPLIT}]; // ${SPLIT_CODE.rows} rows, ${SPLIT_CODE.cols} columns, ${SPLIT_CODE.k} K
  const splitCols = split === ${SPLIT_CODE.cols};
  const flip = ctrl[s + ${W_FLIP}] === 1;
  const part = m1 - m0;
  tf.tidy(() => {
    // plain operands for the stock kernel, fast only for A·B: transposes made explicit
    // (the wasm backend copies a tensor's values into its heap when the tensor is made)
    let a, b;
    if (split === ${SPLIT_CODE.k}) {
      // columns m0..m1 of op(A), rows m0..m1 of op(B): a partial product over that stretch of K
      a = transA
        ? tf.transpose(tf.tensor2d(data.subarray(aOff + m0 * Mtot, aOff + m1 * Mtot), [part, Mtot]))
        : tf.tensor2d(columns(aOff, Mtot, k, m0, part), [Mtot, part]);
      b = transB
        ? tf.transpose(tf.tensor2d(columns(bOff, n, k, m0, part), [n, part]))
        : tf.tensor2d(data.subarray(bOff + m0 * n, bOff + m1 * n), [part, n]);
    } else if (!splitCols) {
      // rows m0..m1 of op(A), all of op(B)
      a = transA
        ? tf.transpose(tf.tensor2d(columns(aOff, k, Mtot, m0, part), [k, part]))
        : tf.tensor2d(data.subarray(aOff + m0 * k, aOff + m1 * k), [part, k]);
      const bRaw = tf.tensor2d(data.subarray(bOff, bOff + k * n), transB ? [n, k] : [k, n]);
      b = transB ? tf.transpose(bRaw) : bRaw;
    } else {
      // all of op(A), columns m0..m1 of op(B)
      const aRaw = tf.tensor2d(data.subarray(aOff, aOff + k * Mtot), transA ? [k, Mtot] : [Mtot, k]);
      if (flip) {
        // C block = (B blockᵀ · A)ᵀ, the small A as XNNPACK's weights
        a = tf.transpose(tf.tensor2d(columns(bOff, k, n, m0, part), [k, part]));
        b = aRaw;
      } else {
        a = transA ? tf.transpose(aRaw) : aRaw;
        b = transB
          ? tf.transpose(tf.tensor2d(data.subarray(bOff + m0 * k, bOff + m1 * k), [part, k]))
          : tf.tensor2d(columns(bOff, k, n, m0, part), [k, part]);
      }
    }
    const product = tf.matMul(a, b);
    const c = flip ? tf.transpose(product) : product;
    // straight from the wasm heap into the shared buffer (dataSync would copy once more)
    const backend = tf.backend();
    const offset = backend.dataIdMap.get(c.dataId).memoryOffset;
    // rows/columns: the block's place in C; K: this worker's own [M, N] partial (cOff is per worker)
    const size = split === ${SPLIT_CODE.k} ? Mtot * n : splitCols ? Mtot * part : part * n;
    const at = split === ${SPLIT_CODE.k} ? cOff : cOff + (splitCols ? Mtot * m0 : m0 * n);
    data.set(new Float32Array(backend.wasm.HEAPU8.buffer, offset, size), at);
  });
}
(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  Atomics.store(ctrl, s + ${W_STATE}, ${State.Idle});
  Atomics.notify(ctrl, s + ${W_STATE});
  for (;;) {
    // sleep until the main thread posts a job (from Done it first goes back to Idle)
    for (let st = Atomics.load(ctrl, s + ${W_STATE}); st !== ${State.Job}; st = Atomics.load(ctrl, s + ${W_STATE})) {
      Atomics.wait(ctrl, s + ${W_STATE}, st);
    }
    try {
      run();
      Atomics.store(ctrl, s + ${W_STATE}, ${State.Done});
    } catch (err) {
      process.stderr.write('saeboard gemm worker: ' + (err && err.stack || err) + '\\n');
      Atomics.store(ctrl, s + ${W_STATE}, ${State.Failed});
    }
    Atomics.notify(ctrl, s + ${W_STATE});
  }
})().catch((err) => {
  process.stderr.write('saeboard gemm worker: ' + (err && err.stack || err) + '\\n');
  Atomics.store(ctrl, s + ${W_STATE}, ${State.Failed});
  Atomics.notify(ctrl, s + ${W_STATE});
});
`;

/** One product for the pool: the operands as stored (row-major), and the main thread's share. */
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
  /**
   * Computes C's first block on the calling thread (and stores it) while the workers compute the
   * rest: rows [0, end) of C, columns [0, end), or (split 'k') all of C over K's [0, end).
   */
  computeHead(end: number, split: Split): void;
  /**
   * Receives a worker's block: rows [lo, hi) of C ([hi − lo, N] row-major), columns [lo, hi)
   * ([M, hi − lo] row-major), or (split 'k') a partial [M, N] over K's [lo, hi) to add.
   */
  storeBlock(lo: number, hi: number, split: Split, block: Float32Array): void;
}

export class GemmPool {
  private readonly ctrl: Int32Array;
  private data: Float32Array = new Float32Array(new SharedArrayBuffer(4));
  private generation = 0;
  private failedReason: string | null = null;

  private constructor(
    private readonly workers: Worker[],
    ctrlBuffer: SharedArrayBuffer,
  ) {
    this.ctrl = new Int32Array(ctrlBuffer);
  }

  /** Starts `threads − 1` workers and waits until each has its wasm backend up. */
  static async start(threads: number): Promise<GemmPool> {
    const count = Math.max(1, Math.min(threads, 64) - 1);
    const ctrlBuffer = new SharedArrayBuffer(4 * SLOT * count);
    const ctrl = new Int32Array(ctrlBuffer);
    const base = path.join(PROJECT_ROOT, 'package.json');
    createRequire(base).resolve('@tensorflow/tfjs-backend-wasm'); // fail here, not in a worker
    const workers = Array.from({ length: count }, (_, slot) => {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { ctrl: ctrlBuffer, slot, base } });
      w.unref(); // blocked in Atomics.wait for good: must not keep the process alive
      return w;
    });
    const pool = new GemmPool(workers, ctrlBuffer);
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

  private ensureData(floats: number): void {
    if (this.data.length >= floats) return;
    const size = Math.max(floats, Math.ceil(this.data.length * 1.5));
    this.data = new Float32Array(new SharedArrayBuffer(4 * size));
    this.generation++;
    for (const w of this.workers) w.postMessage({ data: this.data.buffer, generation: this.generation });
  }

  /**
   * C = op(A)·op(B), [M, N] row-major, split by rows over the caller and the workers; false when
   * the pool has failed (the caller then computes it alone).
   */
  matMul(p: PoolProduct): boolean {
    if (this.failedReason) return false;
    const { M, N, K } = p;
    const split = chooseSplit(M, N, K);
    const cols = split === 'cols';
    const extent = split === 'k' ? K : cols ? N : M;
    const parts = Math.min(this.threads, extent);
    // an even split measured best (2 threads, SAE step: the caller's share at 0.8–1.2× of even)
    const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((extent * i) / parts));
    const used = parts - 1;
    const aOff = 0;
    const bOff = aOff + M * K;
    const cOff = bOff + K * N;
    // K: one [M, N] partial per worker; otherwise C's blocks in place
    this.ensureData(cOff + M * N * (split === 'k' ? Math.max(used, 1) : 1));
    // only what the workers read: the rows of A after the caller's when split by rows (and A is
    // not transposed), the rows of Bᵀ after the caller's when split by columns of op(B) = Bᵀ
    const first = bounds[1];
    if (split === 'rows' && !p.transA) this.data.set(p.a.subarray(first * K, M * K), aOff + first * K);
    else this.data.set(p.a.subarray(0, M * K), aOff);
    if (cols && p.transB) this.data.set(p.b.subarray(first * K, N * K), bOff + first * K);
    else this.data.set(p.b.subarray(0, K * N), bOff);
    for (let w = 0; w < used; w++) {
      const s = w * SLOT;
      const c = this.ctrl;
      c[s + W_GENERATION] = this.generation;
      c[s + W_M0] = bounds[w + 1];
      c[s + W_M1] = bounds[w + 2];
      c[s + W_M] = M;
      c[s + W_N] = N;
      c[s + W_K] = K;
      c[s + W_TRANS_A] = p.transA ? 1 : 0;
      c[s + W_TRANS_B] = p.transB ? 1 : 0;
      c[s + W_A_OFF] = aOff;
      c[s + W_B_OFF] = bOff;
      c[s + W_C_OFF] = split === 'k' ? cOff + w * M * N : cOff;
      c[s + W_SPLIT] = SPLIT_CODE[split];
      c[s + W_FLIP] = flipProduct(split, p.transA, p.transB) ? 1 : 0;
      Atomics.store(c, s + W_STATE, State.Job);
      Atomics.notify(c, s + W_STATE);
    }
    try {
      p.computeHead(bounds[1], split);
    } finally {
      this.waitAll(used); // never leave a worker writing into a buffer we may replace
    }
    if (this.failedReason) return false;
    for (let w = 1; w < parts; w++) {
      const [lo, hi] = [bounds[w], bounds[w + 1]];
      const at = split === 'k' ? cOff + (w - 1) * M * N : cOff + (cols ? M * lo : lo * N);
      const size = split === 'k' ? M * N : (hi - lo) * (cols ? M : N);
      p.storeBlock(lo, hi, split, this.data.subarray(at, at + size));
    }
    return true;
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

/** The running pool, or null (not started, single-threaded, or failed). */
export function gemmPool(): GemmPool | null {
  return pool && !pool.failure ? pool : null;
}

/** Starts the pool for `threads` threads (no pool for 1); replaces a running one. */
export async function startGemmPool(threads: number): Promise<GemmPool | null> {
  await stopGemmPool();
  if (threads < 2) return null;
  pool = await GemmPool.start(threads);
  return pool;
}

export async function stopGemmPool(): Promise<void> {
  const p = pool;
  pool = null;
  if (p) await p.close();
}
