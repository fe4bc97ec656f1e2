/**
 * Sweep configuration (YAML or JSON): many SAEs trained from one activation stream.
 *
 *   name: othello-p-anneal
 *   batchSize: 8192            # shared: every SAE sees the same batches
 *   seed: 42                   # shuffle-buffer sampling
 *   buffer: { contexts: 1000, maxMiB: 2048 }
 *   source: { type: activations, path: runs/acts/othello-l5 }
 *   checkpoints: { logSpaced: true, steps: [], resumeEvery: 1000 }
 *   defaults: { steps: 36621 }             # merged into every trainer entry
 *   trainers:
 *     - trainer: p_anneal
 *       expansion: [8, 16]                 # a list = a grid axis
 *       initialSparsityPenalty: { linspace: [0.025, 0.05, 20] }
 *
 * Grid axes: a list, `{ linspace: [a, b, n] }`, `{ logspace: [a, b, n] }` (base 10 exponents) or
 * `{ values: [...] }`; the cross product is taken with the *last* axis varying fastest, so the
 * entry above gives SAEs trainer0..19 at expansion 8 and trainer20..39 at expansion 16, the order
 * of the paper's sweep folders (trainers.md §6). `betas` is a pair, never an axis (use `values`).
 * `limits: { maxSaes, maxWork }` caps the grid (default 1000 SAEs, 1e14 vectors of steps × batch
 * summed over SAEs); the grid size is checked before anything is expanded.
 */
import YAML from 'yaml';
import { z } from 'zod';
import { UserInputError, oneLine } from '../errors.js';
import { PAPER_STEPS, resolveTrainerConfig, zodMessage, type TrainerConfig } from './config.js';

const sourceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('activations'), path: z.string().min(1), repeat: z.boolean().optional() }).strict(),
  z
    .object({
      type: z.literal('lm'),
      /** LM checkpoint directory or shipped model name. */
      model: z.string().min(1),
      /** Game dataset directory. */
      dataset: z.string().min(1),
      split: z.enum(['train', 'test', 'all']).optional(),
      layer: z.number().int().nonnegative(),
      site: z.string().optional(),
      contextLength: z.number().int().positive().optional(),
      lmBatchSize: z.number().int().positive().optional(),
      repeat: z.boolean().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('synthetic'),
      dIn: z.number().int().positive(),
      features: z.number().int().positive(),
      active: z.number().int().positive(),
      contexts: z.number().int().positive(),
      contextLength: z.number().int().positive().optional(),
      seed: z.number().int().optional(),
      repeat: z.boolean().optional(),
    })
    .strict(),
]);

export type SourceSpec = z.infer<typeof sourceSchema>;

const sweepSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, { error: 'expected a name of letters, digits, ".", "_" or "-"' }),
    output: z.string().optional(),
    batchSize: z.number().int().positive().optional(),
    seed: z.number().int().optional(),
    buffer: z
      .object({ contexts: z.number().int().positive().optional(), maxMiB: z.number().positive().optional() })
      .strict()
      .optional(),
    source: sourceSchema,
    checkpoints: z
      .object({
        logSpaced: z.boolean().optional(),
        steps: z.array(z.number().int().nonnegative()).optional(),
        resumeEvery: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /** Free-form provenance (LM name, dataset, notes) stored with every SAE. */
    meta: z.record(z.string(), z.unknown()).optional(),
    defaults: z.record(z.string(), z.unknown()).optional(),
    limits: z
      .object({ maxSaes: z.number().int().positive().optional(), maxWork: z.number().positive().optional() })
      .strict()
      .optional(),
    trainers: z.array(z.record(z.string(), z.unknown()), { error: 'expected a list of trainer configs' }).min(1, { error: 'expected at least one trainer' }),
  })
  .strict();

export interface SweepSpec {
  name: string;
  output: string | null;
  batchSize: number;
  seed: number;
  buffer: { contexts: number; maxMiB: number };
  source: SourceSpec;
  checkpoints: { logSpaced: boolean; steps: number[]; resumeEvery: number };
  meta: Record<string, unknown>;
  limits: SweepLimits;
  /** The expanded, resolved trainer configs: SAE i is named `trainer{i}`. */
  saes: { name: string; config: TrainerConfig }[];
}

/** A grid axis: its length (known without materialising it) and its values. */
interface Axis {
  length: number;
  values(): unknown[];
}

function gridAxis(v: unknown, where: string): Axis | null {
  if (Array.isArray(v)) {
    if (v.length === 0) throw new UserInputError(`${where}: an empty list gives no SAEs`);
    return { length: v.length, values: () => v };
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && (keys[0] === 'linspace' || keys[0] === 'logspace')) {
      const a = o[keys[0]];
      if (!Array.isArray(a) || a.length !== 3 || !a.every((x) => typeof x === 'number' && Number.isFinite(x)) || !Number.isInteger(a[2]) || (a[2] as number) < 1) {
        throw new UserInputError(`${where}.${keys[0]}: expected [start, end, count]`);
      }
      const [s, e, n] = a as number[];
      const log = keys[0] === 'logspace';
      return {
        length: n,
        values: () => Array.from({ length: n }, (_, i) => {
          const x = n === 1 ? s : s + ((e - s) * i) / (n - 1);
          return log ? 10 ** x : x;
        }),
      };
    }
    if (keys.length === 1 && keys[0] === 'values') {
      if (!Array.isArray(o.values) || o.values.length === 0) throw new UserInputError(`${where}.values: expected a non-empty list`);
      const values = o.values;
      return { length: values.length, values: () => values };
    }
  }
  return null;
}

function entryAxes(entry: Record<string, unknown>, where: string): [string, Axis | null][] {
  return Object.entries(entry).map(([key, value]) => [key, key === 'betas' && Array.isArray(value) ? null : gridAxis(value, `${where}.${key}`)]);
}

/** How many SAEs one trainer entry's grid gives, and a readable breakdown, without expanding it. */
export function gridSize(entry: Record<string, unknown>, where: string): { count: number; breakdown: string } {
  const axes = entryAxes(entry, where).filter((a): a is [string, Axis] => a[1] !== null);
  return {
    count: axes.reduce((p, [, a]) => p * a.length, 1),
    breakdown: axes.map(([k, a]) => `${k} ${a.length.toLocaleString('en-US')}`).join(' × ') || 'no grid axes',
  };
}

/** Expand one trainer entry's grid axes into concrete configs (last axis fastest). */
export function expandGrid(entry: Record<string, unknown>, where: string): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [key, axis] of entryAxes(entry, where)) {
    if (!axis) {
      out = out.map((o) => ({ ...o, [key]: entry[key] }));
      continue;
    }
    const next: Record<string, unknown>[] = [];
    for (const o of out) for (const v of axis.values()) next.push({ ...o, [key]: v });
    out = next;
  }
  return out;
}

/**
 * Caps on what one sweep may ask for, checked before the grid is expanded: a typo such as a
 * linspace of 1,000,000 points must be an error, not gigabytes of configs. Raise them in the
 * config (`limits:`) or with --max-saes / --max-work.
 */
export interface SweepLimits {
  /** SAEs in the whole sweep. */
  maxSaes: number;
  /** Total work: the sum over SAEs of steps × batch size (activation vectors trained on). */
  maxWork: number;
}

/** The paper's largest sweep (top_k: 80 SAEs × 36,621 steps × 8192) is ~2.4e13 vectors. */
export const DEFAULT_SWEEP_LIMITS: SweepLimits = { maxSaes: 1000, maxWork: 1e14 };

/** Parse a sweep or trainer config file's text: JSON for `.json`, else YAML (aliases capped by the parser). */
export function parseConfigText(text: string, file: string): unknown {
  const json = file.endsWith('.json');
  try {
    // logLevel error: an unknown tag (!!js/function) is kept as text, without a process warning
    return json ? JSON.parse(text) : YAML.parse(text, { logLevel: 'error' });
  } catch (err) {
    throw new UserInputError(`${file}: not valid ${json ? 'JSON' : 'YAML'} (${oneLine((err as Error).message)})`);
  }
}

/**
 * Validate the sweep document's outer structure and return its source (before the trainers can be
 * resolved, which needs the source's d_in).
 */
export function sweepSourceOf(doc: unknown, prefix = 'sweep'): SourceSpec {
  const parsed = sweepSchema.safeParse(doc);
  if (!parsed.success) throw new UserInputError(zodMessage(prefix, doc, parsed.error.issues));
  return parsed.data.source;
}

/**
 * Validate a parsed sweep document; `dIn` is the activation source's width (null: only known for
 * synthetic sources, whose spec carries it).
 */
export function resolveSweep(
  doc: unknown,
  dInArg: number | null | 'unknown',
  prefix = 'sweep',
  limitOverrides: Partial<SweepLimits> = {},
): SweepSpec {
  const parsed = sweepSchema.safeParse(doc);
  if (!parsed.success) throw new UserInputError(zodMessage(prefix, doc, parsed.error.issues));
  const s = parsed.data;
  const limits: SweepLimits = { ...DEFAULT_SWEEP_LIMITS, ...(s.limits ?? {}), ...definedOnly(limitOverrides) };
  const grids = s.trainers.map((entry, i) => gridSize({ ...(s.defaults ?? {}), ...entry }, `${prefix}.trainers[${i}]`));
  const total = grids.reduce((a, g) => a + g.count, 0);
  if (total > limits.maxSaes) {
    const parts = grids.map((g, i) => `trainers[${i}]: ${g.breakdown}`).join('; ');
    throw new UserInputError(
      `${prefix}: the trainer grids give ${total.toLocaleString('en-US')} SAEs, more than the limit of ${limits.maxSaes.toLocaleString('en-US')} (${parts}); ` +
        `shrink the grid, or raise the limit with --max-saes or limits.maxSaes in the config`,
    );
  }
  // 'unknown': validate everything but d_in before the source is opened (a large stand-in width
  // so no size check fails because of it)
  const placeholder = dInArg === 'unknown' ? 1 << 16 : null;
  let dIn = dInArg === 'unknown' ? null : dInArg;
  if (dIn === null && s.source.type === 'synthetic') dIn = s.source.dIn;
  const batchSize = s.batchSize ?? 8192;
  const saes: SweepSpec['saes'] = [];
  s.trainers.forEach((entry, i) => {
    const where = `${prefix}.trainers[${i}]`;
    if ('batchSize' in entry && entry.batchSize !== batchSize) {
      throw new UserInputError(`${where}.batchSize: all SAEs of a sweep share the batches; set batchSize at the sweep level (${batchSize})`);
    }
    if (dIn !== null && 'dIn' in entry && entry.dIn !== dIn) {
      throw new UserInputError(`${where}.dIn: ${String(entry.dIn)} does not match the activation source's d_in ${dIn}`);
    }
    for (const cfg of expandGrid({ ...(s.defaults ?? {}), ...entry }, where)) {
      const fill = dIn ?? placeholder;
      const merged = { ...cfg, batchSize, ...(fill !== null && cfg.dIn === undefined ? { dIn: fill } : {}) };
      saes.push({ name: `trainer${saes.length}`, config: resolveTrainerConfig(merged, where) });
    }
  });
  const work = saes.reduce((a, x) => a + x.config.steps * batchSize, 0);
  if (work > limits.maxWork) {
    throw new UserInputError(
      `${prefix}: ${saes.length} SAE(s) × their steps × batch ${batchSize} = ${work.toExponential(2)} activation vectors to train on, more than the limit of ${limits.maxWork.toExponential(2)}; ` +
        `lower steps, batchSize or the grid, or raise the limit with --max-work or limits.maxWork in the config`,
    );
  }
  if (dIn !== null) {
    const bad = saes.find((x) => x.config.dIn !== dIn);
    if (bad) throw new UserInputError(`${prefix}.defaults.dIn: ${bad.config.dIn} does not match the activation source's d_in ${dIn}`);
  }
  return {
    name: s.name,
    output: s.output ?? null,
    batchSize,
    seed: s.seed ?? 42,
    buffer: { contexts: s.buffer?.contexts ?? 1000, maxMiB: s.buffer?.maxMiB ?? 2048 },
    source: s.source,
    checkpoints: {
      logSpaced: s.checkpoints?.logSpaced ?? true,
      steps: s.checkpoints?.steps ?? [],
      resumeEvery: s.checkpoints?.resumeEvery ?? 1000,
    },
    meta: s.meta ?? {},
    limits,
    saes,
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Checkpoint steps: 0, 1, 2, 4, 8, … (< steps) plus the extra list; the final state is separate. */
export function checkpointSteps(steps: number, logSpaced: boolean, extra: number[]): number[] {
  const set = new Set<number>();
  if (logSpaced) {
    set.add(0);
    for (let s = 1; s < steps; s *= 2) set.add(s);
  }
  for (const s of extra) if (s < steps) set.add(s);
  return [...set].sort((a, b) => a - b);
}

/** The paper's sweeps (trainers.md §6) as a sweep document. */
export const PAPER_RANGES: Record<string, Record<'chess' | 'othello', [number, number]>> = {
  standard: { chess: [0.03, 0.1], othello: [0.035, 0.08] },
  p_anneal: { chess: [0.02, 0.08], othello: [0.025, 0.05] },
  gated: { chess: [0.15, 1.0], othello: [1.0, 2.0] },
  gated_anneal: { chess: [0.05, 0.15], othello: [0.15, 1.0] },
};

export function paperSweep(game: 'chess' | 'othello', trainer: string, source: SourceSpec): Record<string, unknown> {
  const knob = trainer === 'standard' || trainer === 'gated' ? 'l1Penalty' : 'initialSparsityPenalty';
  const entry: Record<string, unknown> = { trainer, expansion: [8, 16] };
  if (trainer === 'top_k') {
    // UNCONFIRMED which k were run: the script lists int(linspace(10, 400, 40)) (trainers.md §6)
    entry.k = { values: Array.from({ length: 40 }, (_, i) => Math.trunc(10 + (390 * i) / 39)) };
  } else {
    const r = PAPER_RANGES[trainer];
    if (!r) throw new UserInputError(`no paper sweep for trainer "${trainer}" (paper trainers: standard, p_anneal, gated, gated_anneal, top_k)`);
    entry[knob] = { linspace: [r[game][0], r[game][1], 20] };
  }
  return {
    name: `${game}-${trainer}-paper`,
    batchSize: 8192,
    seed: 42,
    buffer: { contexts: 1000 },
    source,
    checkpoints: { logSpaced: true, steps: [], resumeEvery: 1000 },
    defaults: { steps: 36_621, seed: 42 },
    trainers: [entry],
  };
}

/** Without a batch size and steps: the paper's batch, halved down to this while one pass is short. */
export const FIT_MIN_BATCH = 256;
export const FIT_MIN_STEPS = 1000;

/**
 * Steps (and, when not given, the batch size) fitted to the activations: one pass over them, as
 * the paper (which never reuses a vector), at most its 36,621 steps. Returns null when the user
 * chose the steps.
 */
export function fitStepsToData(totalVectors: number, given: { steps?: number; batchSize?: number }): { steps: number; batchSize: number } | null {
  if (given.steps !== undefined) return null;
  let batchSize = given.batchSize ?? 8192;
  if (given.batchSize === undefined) while (batchSize > FIT_MIN_BATCH && Math.floor(totalVectors / batchSize) < FIT_MIN_STEPS) batchSize /= 2;
  return { steps: Math.min(PAPER_STEPS, Math.floor(totalVectors / batchSize)), batchSize };
}
