/**
 * The activation shuffle buffer of trainers.md §1 (dictionary_learning ActivationBuffer): it holds
 * `contexts × contextLength` vectors; when fewer than half are unread it drops the read ones and
 * refills from the stream; each batch is `batchSize` vectors drawn uniformly without replacement
 * from the unread ones. Memory is bounded by the buffer (checked against `maxBytes`).
 *
 * Differences from dictionary_learning, both harmless: refills read exactly up to capacity from
 * the stream (dictionary_learning drops the tail of the last LM batch that does not fit), and the
 * sampling uses saeboard's RNG. The buffer's whole state is the stream cursor, the indices of the
 * vectors it holds, the read flags and the RNG state, so a resumed run draws the same batches.
 */
import { UserInputError } from '../errors.js';
import { Rng } from './rng.js';
import type { ActivationSource } from './source.js';
import { NonFiniteError } from './trainer.js';

export interface BufferOptions {
  /** Contexts held (trainers.md §1: 1000). */
  contexts: number;
  seed: number;
  /** Refuse buffers larger than this (bytes of float32 activations). */
  maxBytes?: number;
  /** Wrap around at the end of the source instead of stopping. */
  repeat?: boolean;
}

export interface BufferState {
  cursor: number;
  ids: Float64Array;
  read: Uint8Array;
  rng: ReturnType<Rng['state']>;
  vectorsServed: number;
}

const READ_CHUNK = 65_536;

export class ActivationBuffer {
  readonly capacity: number;
  private readonly data: Float32Array;
  private readonly ids: Float64Array;
  private readonly read: Uint8Array;
  private n = 0;
  private cursor = 0;
  private rng: Rng;
  vectorsServed = 0;

  constructor(
    readonly source: ActivationSource,
    readonly opts: BufferOptions,
  ) {
    const cap = opts.contexts * source.contextLength;
    if (!Number.isInteger(opts.contexts) || opts.contexts < 1) throw new UserInputError(`buffer.contexts must be a positive integer, got ${opts.contexts}`);
    const bytes = cap * source.dIn * 4;
    if (opts.maxBytes !== undefined && bytes > opts.maxBytes) {
      throw new UserInputError(
        `buffer.contexts: ${opts.contexts} contexts × ${source.contextLength} vectors × d ${source.dIn} need ${(bytes / 2 ** 20).toFixed(0)} MiB, more than buffer.maxMiB (${(opts.maxBytes / 2 ** 20).toFixed(0)} MiB); lower buffer.contexts or raise buffer.maxMiB`,
      );
    }
    this.capacity = opts.repeat ? cap : Math.min(cap, source.totalVectors);
    this.data = new Float32Array(this.capacity * source.dIn);
    this.ids = new Float64Array(this.capacity);
    this.read = new Uint8Array(this.capacity);
    this.rng = new Rng(opts.seed);
  }

  get unread(): number {
    let u = 0;
    for (let i = 0; i < this.n; i++) if (!this.read[i]) u++;
    return u;
  }

  /** Vectors the stream can still deliver (Infinity with repeat). */
  remaining(): number {
    return this.opts.repeat ? Infinity : this.source.totalVectors - this.cursor + this.unread;
  }

  private async refresh(): Promise<void> {
    const d = this.source.dIn;
    // keep the unread vectors, in order, at the front
    let w = 0;
    for (let i = 0; i < this.n; i++) {
      if (this.read[i]) continue;
      if (w !== i) {
        this.data.copyWithin(w * d, i * d, (i + 1) * d);
        this.ids[w] = this.ids[i];
      }
      w++;
    }
    this.n = w;
    this.read.fill(0);
    const total = this.source.totalVectors;
    while (this.n < this.capacity) {
      if (this.cursor >= total && !this.opts.repeat) break;
      const pos = this.cursor % total;
      const take = Math.min(this.capacity - this.n, total - pos, READ_CHUNK);
      const v = await this.source.readVectors(pos, take);
      this.data.set(v, this.n * d);
      for (let i = 0; i < take; i++) this.ids[this.n + i] = this.cursor + i;
      this.n += take;
      this.cursor += take;
    }
  }

  /** Next batch [batchSize, d]; throws when the source is exhausted or a vector is not finite. */
  async next(batchSize: number, step?: number): Promise<Float32Array> {
    if (batchSize > this.capacity) {
      throw new UserInputError(
        `buffer.contexts: the shuffle buffer holds ${this.capacity} vectors (${this.opts.contexts} contexts × ${this.source.contextLength}), fewer than one batch of ${batchSize}; raise buffer.contexts`,
      );
    }
    if (this.unread < this.capacity / 2 || this.unread < batchSize) await this.refresh();
    const unread: number[] = [];
    for (let i = 0; i < this.n; i++) if (!this.read[i]) unread.push(i);
    if (unread.length < batchSize) {
      throw new UserInputError(
        `activation source exhausted after ${this.vectorsServed} vectors (${this.source.totalVectors} available); a batch needs ${batchSize} more — use fewer steps, a larger source, or source.repeat`,
      );
    }
    const picks = this.rng.sampleWithoutReplacement(unread.length, batchSize);
    const d = this.source.dIn;
    const out = new Float32Array(batchSize * d);
    for (let b = 0; b < batchSize; b++) {
      const i = unread[picks[b]];
      this.read[i] = 1;
      const row = this.data.subarray(i * d, (i + 1) * d);
      for (let c = 0; c < d; c++) {
        if (!Number.isFinite(row[c])) {
          throw new NonFiniteError(
            `activation vector ${this.ids[i] % this.source.totalVectors} (component ${c}) is ${row[c]}${step !== undefined ? ` in the batch of step ${step}` : ''}; stopping (the last checkpoint is intact)`,
          );
        }
      }
      out.set(row, b * d);
    }
    this.vectorsServed += batchSize;
    return out;
  }

  state(): BufferState {
    return {
      cursor: this.cursor,
      ids: this.ids.slice(0, this.n),
      read: this.read.slice(0, this.n),
      rng: this.rng.state(),
      vectorsServed: this.vectorsServed,
    };
  }

  /** Restore a saved state: re-reads exactly the vectors the buffer held. */
  async restore(state: BufferState): Promise<void> {
    const n = state.ids.length;
    if (n > this.capacity || state.read.length !== n) throw new UserInputError('buffer state does not fit this buffer (different contexts or source?)');
    const d = this.source.dIn;
    const total = this.source.totalVectors;
    // the held ids form a few increasing runs; read each run in one call
    let i = 0;
    while (i < n) {
      let j = i + 1;
      while (j < n && state.ids[j] === state.ids[j - 1] + 1 && state.ids[j] % total !== 0) j++;
      const start = state.ids[i] % total;
      const v = await this.source.readVectors(start, j - i);
      this.data.set(v, i * d);
      i = j;
    }
    this.ids.set(state.ids);
    this.read.set(state.read);
    this.n = n;
    this.cursor = state.cursor;
    this.rng = Rng.fromState(state.rng);
    this.vectorsServed = state.vectorsServed;
  }
}
