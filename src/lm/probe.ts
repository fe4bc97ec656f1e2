/**
 * Linear probes: logistic regression from residual activations to a BSP family's labels
 * (models.md §5). One probe per (layer, family):
 *
 *  - one-hot families (every square has exactly one true class, e.g. Othello mine/yours/empty,
 *    chess 13-way piece): a softmax over the classes of each square; loss = cross-entropy summed
 *    over squares, averaged over positions (the chess board-state probe of models.md §5);
 *    accuracy = fraction of (position, square) pairs whose argmax class is the true one.
 *  - any other family (multi-hot or 1×1 binary properties): an independent sigmoid per cell,
 *    mean binary cross-entropy; accuracy = fraction of cells predicted right at p > 0.5, plus the
 *    micro-F1 of the positive class (the paper reports probe F1 for strategy BSPs).
 *
 * Optimiser: AdamW, lr 1e-3, weight decay 0.01, betas (0.9, 0.99) as the chess probe code.
 * CHOICE (UNCONFIRMED in the spec): our probes have a bias term (the chess probe had none; a bias
 * costs nothing and helps rare binary cells), train in minibatches of 256 over the training
 * positions (rather than 50,000 iterations of 2 games) until the epoch's mean loss stops
 * improving (relative change < `tolerance`) or `maxEpochs` is reached, and are scored on held-out
 * (test split) positions.
 *
 * The bias starts at the training set's log class frequencies (softmax) / log-odds (sigmoid), so
 * a probe starts at the majority baseline: with a zero start and Adam's ~lr-sized steps, a
 * 13-class chess square whose empty class has 2/3 of the mass needs thousands of steps just to
 * learn the prior, and short runs ended below the baseline.
 */
import { tf } from '../tensor/backend.js';
import { UserInputError } from '../errors.js';
import { ownedVariable } from './ops.js';
import { AdamW } from './optim.js';
import { Rng } from './rng.js';

export type ProbeKind = 'softmax' | 'sigmoid';

export interface ProbeFamily {
  shortName: string;
  rows: number;
  cols: number;
  classes: number;
}

export interface ProbeData {
  /** [n, d] activations. */
  x: Float32Array;
  /** [n, cells] 0/1 labels, cells = rows·cols·classes, cell = (row·cols + col)·classes + class. */
  y: Uint8Array;
  n: number;
}

export interface ProbeOptions {
  /** Upper bound on passes over the training positions (default 40). */
  maxEpochs?: number;
  /** Stop when an epoch's mean loss improves by less than this fraction of the previous one (default 2e-3). */
  tolerance?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  seed?: number;
  /** Standardise activations with the training mean/std first (helps random-init models). */
  standardize?: boolean;
}

export interface ProbeResult {
  family: string;
  kind: ProbeKind;
  /** Test accuracy (see header for its definition per kind). */
  accuracy: number;
  /** Sigmoid probes: micro-F1 of the positive class on the test set. Softmax: macro over cells of one-vs-rest F1 is not computed. */
  f1: number | null;
  trainAccuracy: number;
  /** Accuracy of always predicting the most frequent class per cell in the training set. */
  baselineAccuracy: number;
  nTrain: number;
  nTest: number;
  finalTrainLoss: number;
  /** Epochs actually run, and whether the loss had flattened by then. */
  epochs: number;
  converged: boolean;
}

/** Softmax when every (position, square) has exactly one true class. */
export function probeKindFor(family: ProbeFamily, y: Uint8Array, n: number): ProbeKind {
  if (family.classes < 2) return 'sigmoid';
  const squares = family.rows * family.cols;
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < squares; s++) {
      let sum = 0;
      const base = (i * squares + s) * family.classes;
      for (let c = 0; c < family.classes; c++) sum += y[base + c];
      if (sum !== 1) return 'sigmoid';
    }
  }
  return 'softmax';
}

function gatherRows(src: Float32Array | Uint8Array, width: number, idx: Uint32Array, from: number, to: number): Float32Array {
  const out = new Float32Array((to - from) * width);
  for (let i = from; i < to; i++) {
    const r = idx[i];
    for (let k = 0; k < width; k++) out[(i - from) * width + k] = src[r * width + k];
  }
  return out;
}

/** Train one probe on `train`, score it on `test`. */
export async function trainProbe(family: ProbeFamily, d: number, train: ProbeData, test: ProbeData, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const cells = family.rows * family.cols * family.classes;
  for (const [name, set] of [['train', train], ['test', test]] as const) {
    if (set.x.length !== set.n * d) throw new UserInputError(`probe ${family.shortName}: ${name} activations hold ${set.x.length} values, expected ${set.n}×${d}`);
    if (set.y.length !== set.n * cells) throw new UserInputError(`probe ${family.shortName}: ${name} labels hold ${set.y.length} values, expected ${set.n}×${cells}`);
  }
  if (train.n === 0 || test.n === 0) throw new UserInputError(`probe ${family.shortName}: needs training and test positions (got ${train.n} / ${test.n})`);
  const kind = probeKindFor(family, train.y, train.n);
  const maxEpochs = opts.maxEpochs ?? 40;
  const tolerance = opts.tolerance ?? 2e-3;
  const batchSize = opts.batchSize ?? 256;
  const squares = family.rows * family.cols;
  const C = family.classes;

  // standardisation statistics from the training set (kept on the host: cheap, exact)
  const mean = new Float32Array(d);
  const invStd = new Float32Array(d).fill(1);
  if (opts.standardize ?? true) {
    for (let i = 0; i < train.n; i++) for (let k = 0; k < d; k++) mean[k] += train.x[i * d + k];
    for (let k = 0; k < d; k++) mean[k] /= train.n;
    const v = new Float64Array(d);
    for (let i = 0; i < train.n; i++) for (let k = 0; k < d; k++) v[k] += (train.x[i * d + k] - mean[k]) ** 2;
    for (let k = 0; k < d; k++) invStd[k] = 1 / Math.sqrt(v[k] / train.n + 1e-6);
  }
  const mean_D = tf.tensor1d(mean);
  const invStd_D = tf.tensor1d(invStd);
  const W = ownedVariable(() => tf.zeros([d, cells]));
  const b = ownedVariable(() => tf.tensor1d(priorBias(kind, cells, C, train)));
  const opt = new AdamW([{ name: 'W', variable: W }, { name: 'b', variable: b }], { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: opts.weightDecay ?? 0.01 });
  const lr = opts.lr ?? 1e-3;

  const logitsOf = (x_BD: tf.Tensor2D) => tf.tidy(() => tf.add(tf.matMul(tf.mul(tf.sub(x_BD, mean_D), invStd_D), W), b) as tf.Tensor2D);
  const lossOf = (x_BD: tf.Tensor2D, y_BK: tf.Tensor2D): tf.Scalar =>
    tf.tidy(() => {
      const B = x_BD.shape[0];
      const logits = logitsOf(x_BD);
      if (kind === 'softmax') {
        const logp = tf.logSoftmax(logits.reshape([B * squares, C]));
        return tf.div(tf.neg(tf.sum(tf.mul(logp, y_BK.reshape([B * squares, C])))), B) as tf.Scalar;
      }
      // stable BCE: max(z,0) − z·y + log(1 + e^−|z|)
      const z = logits;
      const bce = tf.add(tf.sub(tf.relu(z), tf.mul(z, y_BK)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
      return tf.mean(bce) as tf.Scalar;
    });

  const rng = new Rng(opts.seed ?? 0);
  const order = new Uint32Array(train.n).map((_, i) => i);
  let lastLoss = NaN;
  let epochs = 0;
  let converged = false;
  try {
    let previous = Infinity;
    while (epochs < maxEpochs && !converged) {
      rng.shuffle(order);
      let sum = 0;
      let batches = 0;
      for (let s = 0; s < train.n; s += batchSize) {
        const e = Math.min(train.n, s + batchSize);
        const xb = tf.tensor2d(gatherRows(train.x, d, order, s, e), [e - s, d]);
        const yb = tf.tensor2d(gatherRows(train.y, cells, order, s, e), [e - s, cells]);
        const { value, grads } = tf.variableGrads(() => lossOf(xb, yb), [W, b]);
        opt.apply({ W: grads[W.name], b: grads[b.name] }, lr);
        lastLoss = (await value.data())[0];
        sum += lastLoss;
        batches++;
        tf.dispose([value, xb, yb, ...Object.values(grads)]);
      }
      epochs++;
      const mean = sum / batches;
      converged = previous - mean < tolerance * Math.abs(previous);
      previous = mean;
    }

    const score = async (set: ProbeData) => {
      let correct = 0;
      let total = 0;
      let tp = 0;
      let fp = 0;
      let fn = 0;
      for (let s = 0; s < set.n; s += 1024) {
        const e = Math.min(set.n, s + 1024);
        const xb = tf.tensor2d(set.x.subarray(s * d, e * d), [e - s, d]);
        const logits = logitsOf(xb);
        const L = (await logits.data()) as Float32Array;
        tf.dispose([xb, logits]);
        for (let i = 0; i < e - s; i++) {
          const yRow = (s + i) * cells;
          if (kind === 'softmax') {
            for (let q = 0; q < squares; q++) {
              let best = 0;
              for (let c = 1; c < C; c++) if (L[i * cells + q * C + c] > L[i * cells + q * C + best]) best = c;
              if (set.y[yRow + q * C + best] === 1) correct++;
              total++;
            }
          } else {
            for (let k = 0; k < cells; k++) {
              const pred = L[i * cells + k] > 0 ? 1 : 0;
              const truth = set.y[yRow + k];
              if (pred === truth) correct++;
              if (pred && truth) tp++;
              else if (pred && !truth) fp++;
              else if (!pred && truth) fn++;
              total++;
            }
          }
        }
      }
      return { accuracy: correct / total, f1: kind === 'sigmoid' ? (tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn)) : null };
    };
    const testScore = await score(test);
    const trainScore = await score(train);
    return {
      family: family.shortName,
      kind,
      accuracy: testScore.accuracy,
      f1: testScore.f1,
      trainAccuracy: trainScore.accuracy,
      baselineAccuracy: majorityBaseline(family, kind, train, test),
      nTrain: train.n,
      nTest: test.n,
      finalTrainLoss: lastLoss,
      epochs,
      converged,
    };
  } finally {
    tf.dispose([W, b, mean_D, invStd_D]);
    opt.dispose();
  }
}

/** How many training positions have each cell true. */
function cellCounts(train: ProbeData, cells: number): Float64Array {
  const counts = new Float64Array(cells);
  for (let i = 0; i < train.n; i++) for (let k = 0; k < cells; k++) counts[k] += train.y[i * cells + k];
  return counts;
}

/** Initial bias: log class frequencies per square (softmax) or per-cell log-odds (sigmoid), smoothed. */
function priorBias(kind: ProbeKind, cells: number, C: number, train: ProbeData): Float32Array {
  const counts = cellCounts(train, cells);
  const bias = new Float32Array(cells);
  for (let k = 0; k < cells; k++) {
    const p = (counts[k] + 0.5) / (train.n + (kind === 'softmax' ? 0.5 * C : 1));
    bias[k] = kind === 'softmax' ? Math.log(p) : Math.log(p / (1 - p));
  }
  return bias;
}

/** Test accuracy of predicting each cell's most frequent training class (a probe must beat this). */
export function majorityBaseline(family: ProbeFamily, kind: ProbeKind, train: ProbeData, test: ProbeData): number {
  const cells = family.rows * family.cols * family.classes;
  const counts = cellCounts(train, cells);
  let correct = 0;
  let total = 0;
  const C = family.classes;
  const squares = family.rows * family.cols;
  for (let i = 0; i < test.n; i++) {
    if (kind === 'softmax') {
      for (let q = 0; q < squares; q++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (counts[q * C + c] > counts[q * C + best]) best = c;
        correct += test.y[i * cells + q * C + best];
        total++;
      }
    } else {
      for (let k = 0; k < cells; k++) {
        const pred = counts[k] * 2 > train.n ? 1 : 0;
        if (pred === test.y[i * cells + k]) correct++;
        total++;
      }
    }
  }
  return correct / total;
}
