/**
 * Sparse (feature, cell, threshold) alignment rows, kept in growable typed columns so millions of
 * rows cost ~30 bytes each and can be streamed to COPY without per-row objects.
 */
export interface AlignmentRow {
  feature: number;
  /** Global cell index (see LabelSet.offsets). */
  cell: number;
  thresholdIndex: number;
  tp: number;
  onCount: number;
  truthCount: number;
  precision: number;
  recall: number;
  f1: number;
}

export class AlignmentRows {
  feature: Int32Array;
  cell: Int32Array;
  thresholdIndex: Uint8Array;
  tp: Int32Array;
  onCount: Int32Array;
  truthCount: Int32Array;
  precision: Float32Array;
  recall: Float32Array;
  f1: Float32Array;
  length = 0;

  constructor(capacity = 1024) {
    this.feature = new Int32Array(capacity);
    this.cell = new Int32Array(capacity);
    this.thresholdIndex = new Uint8Array(capacity);
    this.tp = new Int32Array(capacity);
    this.onCount = new Int32Array(capacity);
    this.truthCount = new Int32Array(capacity);
    this.precision = new Float32Array(capacity);
    this.recall = new Float32Array(capacity);
    this.f1 = new Float32Array(capacity);
  }

  push(feature: number, cell: number, t: number, tp: number, onCount: number, truthCount: number, precision: number, recall: number, f1: number): void {
    if (this.length === this.feature.length) this.grow();
    const i = this.length++;
    this.feature[i] = feature;
    this.cell[i] = cell;
    this.thresholdIndex[i] = t;
    this.tp[i] = tp;
    this.onCount[i] = onCount;
    this.truthCount[i] = truthCount;
    this.precision[i] = precision;
    this.recall[i] = recall;
    this.f1[i] = f1;
  }

  get(i: number): AlignmentRow {
    return {
      feature: this.feature[i],
      cell: this.cell[i],
      thresholdIndex: this.thresholdIndex[i],
      tp: this.tp[i],
      onCount: this.onCount[i],
      truthCount: this.truthCount[i],
      precision: this.precision[i],
      recall: this.recall[i],
      f1: this.f1[i],
    };
  }

  *[Symbol.iterator](): IterableIterator<AlignmentRow> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  private grow(): void {
    const n = this.feature.length * 2;
    const g = <T extends Int32Array | Uint8Array | Float32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.feature = g(this.feature);
    this.cell = g(this.cell);
    this.thresholdIndex = g(this.thresholdIndex);
    this.tp = g(this.tp);
    this.onCount = g(this.onCount);
    this.truthCount = g(this.truthCount);
    this.precision = g(this.precision);
    this.recall = g(this.recall);
    this.f1 = g(this.f1);
  }
}
