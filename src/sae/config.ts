/**
 * One typed config schema for every SAE trainer (trainers.md). dictionary_learning gives each
 * trainer its own constructor signature and lets saved configs drift; here every trainer reads the
 * same validated, fully-resolved object, which is saved with every checkpoint and hashed
 * (`trainerConfigHash`) to identify the SAE in the database.
 *
 * Input configs may omit anything with a default; `resolveTrainerConfig` fills in the defaults of
 * trainers.md (and the documented choices for batch-top-k / JumpReLU) and rejects fields that do
 * not apply to the trainer, with messages that name the field.
 */
import { z } from 'zod';
import { UserInputError } from '../errors.js';
import { configHash } from '../util/hash.js';

export const TRAINER_NAMES = ['standard', 'gated', 'p_anneal', 'gated_anneal', 'top_k', 'batch_top_k', 'jump_relu'] as const;
export type TrainerName = (typeof TRAINER_NAMES)[number];

export const DICTIONARY_NAMES = ['relu', 'gated', 'top_k', 'batch_top_k', 'jump_relu'] as const;
export type DictionaryName = (typeof DICTIONARY_NAMES)[number];

/** Which dictionary each trainer trains (trainers.md §2–5 + dictionary_learning's later trainers). */
export const DICTIONARY_OF: Record<TrainerName, DictionaryName> = {
  standard: 'relu',
  p_anneal: 'relu',
  gated: 'gated',
  gated_anneal: 'gated',
  top_k: 'top_k',
  batch_top_k: 'batch_top_k',
  jump_relu: 'jump_relu',
};

/** The paper's run length: int(300e6 / 8192) (trainers.md §1). Step-valued defaults scale from it. */
export const PAPER_STEPS = 36_621;

/**
 * What a config may leave out, so that `saeboard sae train -t <trainer> --activations DIR` trains
 * as it is (docs/sae.md "Defaults"). The dictionary is the paper's smaller one (expansion 8 of
 * {8, 16}); the sparsity knob is a value inside the paper's sweep for *both* games (trainers.md §6):
 * the middle of where the chess and Othello λ ranges overlap (standard 0.035–0.08, p-anneal
 * 0.025–0.05; gated and gated-anneal overlap in one point, 1.0 and 0.15), and for top-k a k
 * inside the swept 10–400 (about its geometric middle, at most a quarter of the dictionary).
 */
export const DEFAULT_EXPANSION = 8;
export const DEFAULT_SPARSITY = {
  standard: { l1Penalty: 0.06 },
  gated: { l1Penalty: 1.0 },
  p_anneal: { initialSparsityPenalty: 0.04 },
  gated_anneal: { initialSparsityPenalty: 0.15 },
  top_k: { k: 64 },
  batch_top_k: { k: 64 },
} as const;

const num = (what = 'a number') => z.number({ error: `expected ${what}` });
const positive = () => num().positive({ error: 'expected a number > 0' });
const nonNegative = () => num().nonnegative({ error: 'expected a number >= 0' });
const int = () => num('an integer').int({ error: 'expected an integer' });
const posInt = () => int().positive({ error: 'expected an integer > 0' });
const nonNegInt = () => int().nonnegative({ error: 'expected an integer >= 0' });
const unit = () => num().min(0, { error: 'expected a number in [0, 1)' }).lt(1, { error: 'expected a number in [0, 1)' });

/** Fields every trainer accepts. */
const common = {
  dictionary: z.enum(DICTIONARY_NAMES).optional(),
  /** Activation dimension d. */
  dIn: posInt(),
  /** Dictionary size m; give this or `expansion` (m = expansion·dIn). */
  dictSize: posInt().optional(),
  expansion: posInt().optional(),
  lr: positive().optional(),
  betas: z.tuple([unit(), unit()], { error: 'expected [beta1, beta2]' }).optional(),
  eps: positive().optional(),
  /** Linear LR warm-up length: lr·min(step/warmupSteps, 1), step counted from 0. */
  warmupSteps: nonNegInt().optional(),
  /** Linear LR decay to 0 from this step to `steps`; null = constant. */
  decayStart: nonNegInt().nullable().optional(),
  steps: posInt(),
  batchSize: posInt().optional(),
  seed: int().optional(),
};

const annealFields = {
  initialSparsityPenalty: positive().optional(),
  pStart: positive().optional(),
  pEnd: positive().optional(),
  annealStart: nonNegInt().optional(),
  annealEnd: posInt().optional(),
  nSparsityUpdates: posInt().optional(),
  sparsityQueueLength: posInt().optional(),
};

const auxKFields = {
  k: posInt().optional(),
  auxKCoeff: nonNegative().optional(),
  /** A feature is dead after not firing for more than this many tokens. */
  deadTokensThreshold: posInt().optional(),
  gradClip: positive().optional(),
};

const inputSchemas = {
  standard: z.object({ trainer: z.literal('standard'), ...common, l1Penalty: positive().optional() }).strict(),
  gated: z.object({ trainer: z.literal('gated'), ...common, l1Penalty: positive().optional() }).strict(),
  p_anneal: z.object({ trainer: z.literal('p_anneal'), ...common, ...annealFields }).strict(),
  gated_anneal: z.object({ trainer: z.literal('gated_anneal'), ...common, ...annealFields }).strict(),
  top_k: z.object({ trainer: z.literal('top_k'), ...common, ...auxKFields }).strict(),
  batch_top_k: z
    .object({
      trainer: z.literal('batch_top_k'),
      ...common,
      ...auxKFields,
      thresholdBeta: unit().optional(),
      thresholdStartStep: nonNegInt().optional(),
    })
    .strict(),
  jump_relu: z
    .object({
      trainer: z.literal('jump_relu'),
      ...common,
      sparsityPenalty: positive().optional(),
      targetL0: positive().optional(),
      bandwidth: positive().optional(),
      sparsityWarmupSteps: nonNegInt().optional(),
      gradClip: positive().optional(),
    })
    .strict(),
} as const;

interface CommonResolved {
  dictionary: DictionaryName;
  dIn: number;
  dictSize: number;
  lr: number;
  betas: [number, number];
  eps: number;
  warmupSteps: number;
  decayStart: number | null;
  steps: number;
  batchSize: number;
  seed: number;
}

export interface StandardConfig extends CommonResolved {
  trainer: 'standard';
  l1Penalty: number;
}
export interface GatedConfig extends CommonResolved {
  trainer: 'gated';
  l1Penalty: number;
}
export interface AnnealFields {
  initialSparsityPenalty: number;
  pStart: number;
  pEnd: number;
  annealStart: number;
  annealEnd: number;
  nSparsityUpdates: number;
  sparsityQueueLength: number;
}
export interface PAnnealConfig extends CommonResolved, AnnealFields {
  trainer: 'p_anneal';
}
export interface GatedAnnealConfig extends CommonResolved, AnnealFields {
  trainer: 'gated_anneal';
}
export interface AuxKFields {
  k: number;
  auxKCoeff: number;
  deadTokensThreshold: number;
  gradClip: number;
}
export interface TopKConfig extends CommonResolved, AuxKFields {
  trainer: 'top_k';
}
export interface BatchTopKConfig extends CommonResolved, AuxKFields {
  trainer: 'batch_top_k';
  thresholdBeta: number;
  thresholdStartStep: number;
}
export interface JumpReluConfig extends CommonResolved {
  trainer: 'jump_relu';
  sparsityPenalty: number;
  targetL0: number;
  bandwidth: number;
  sparsityWarmupSteps: number;
  gradClip: number;
}

export type TrainerConfig =
  | StandardConfig
  | GatedConfig
  | PAnnealConfig
  | GatedAnnealConfig
  | TopKConfig
  | BatchTopKConfig
  | JumpReluConfig;

export type TrainerConfigInput = { trainer: string } & Record<string, unknown>;

/** `a.b[2].c` from a zod issue path, prefixed with where the config came from. */
export function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** Turn the first zod issue into one readable line naming the field. */
export function zodMessage(prefix: string, input: unknown, issues: readonly z.core.$ZodIssue[], context = ''): string {
  const issue = issues[0];
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${k}"`).join(', ');
    return `${formatPath(prefix, issue.path)}: unknown field ${keys}${context}`;
  }
  const where = formatPath(prefix, issue.path);
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
    return `${where}: required field is missing (${issue.message})`;
  }
  return `${where}: ${issue.message}`;
}

const fail = (prefix: string, field: string, msg: string): never => {
  throw new UserInputError(`${formatPath(prefix, [field])}: ${msg}`);
};

/** Step-valued paper defaults, scaled to the configured run length (exact at 36,621 steps). */
export function scaledStep(paperStep: number, steps: number): number {
  return Math.round((paperStep * steps) / PAPER_STEPS);
}

/**
 * dictionary_learning's absolute step counts (warm-ups, the batch-top-k threshold start): as they
 * are for runs as long as the paper's or longer, scaled down for shorter runs so they stay < steps.
 */
export function cappedScaledStep(absolute: number, steps: number): number {
  return Math.min(absolute, scaledStep(absolute, steps));
}

/** top-k / batch-top-k default learning rate: 2e-4 / sqrt(m / 2^14) (trainers.md §4). */
export function autoTopKLr(dictSize: number): number {
  return 2e-4 / Math.sqrt(dictSize / 2 ** 14);
}

/**
 * Validate a trainer config and fill in every default. `prefix` names where the config came from
 * in error messages (e.g. `sweep.trainers[2]`).
 */
export function resolveTrainerConfig(input: unknown, prefix = 'config'): TrainerConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new UserInputError(`${prefix}: expected an object with a "trainer" field`);
  }
  const name = (input as Record<string, unknown>).trainer;
  if (typeof name !== 'string') fail(prefix, 'trainer', `required, one of ${TRAINER_NAMES.join(', ')}`);
  if (!(TRAINER_NAMES as readonly string[]).includes(name as string)) {
    fail(prefix, 'trainer', `unknown trainer "${String(name)}" (known: ${TRAINER_NAMES.join(', ')})`);
  }
  const trainer = name as TrainerName;
  const parsed = inputSchemas[trainer].safeParse(input);
  if (!parsed.success) {
    throw new UserInputError(zodMessage(prefix, input, parsed.error.issues, ` (not used by trainer ${trainer})`));
  }
  const c = parsed.data as Record<string, unknown> & { dIn: number; steps: number };

  const dictionary = DICTIONARY_OF[trainer];
  if (c.dictionary !== undefined && c.dictionary !== dictionary) {
    fail(prefix, 'dictionary', `trainer ${trainer} trains a "${dictionary}" dictionary, not "${String(c.dictionary)}"`);
  }
  if (c.dictSize !== undefined && c.expansion !== undefined && c.dictSize !== (c.expansion as number) * c.dIn) {
    fail(prefix, 'dictSize', `conflicts with expansion ${String(c.expansion)} × dIn ${c.dIn}; give one of them`);
  }
  const dictSize = (c.dictSize as number | undefined) ?? ((c.expansion as number | undefined) ?? DEFAULT_EXPANSION) * c.dIn;
  const steps = c.steps;

  const isGated = trainer === 'gated' || trainer === 'gated_anneal';
  const isTopK = trainer === 'top_k' || trainer === 'batch_top_k';
  const defaults = {
    lr: isTopK ? autoTopKLr(dictSize) : trainer === 'jump_relu' ? 7e-5 : 3e-4,
    // CODE≠PAPER: the gated trainers use β1 = 0 (trainers.md §1); JumpReLU too (dictionary_learning).
    betas: (isGated || trainer === 'jump_relu' ? [0, 0.999] : [0.9, 0.999]) as [number, number],
    // top_k (at c52ff00) has no warm-up; the others use dictionary_learning's 1000 (trainers.md §1),
    // scaled down for runs shorter than the paper's so that a short run needs no extra flag
    warmupSteps: trainer === 'top_k' ? 0 : cappedScaledStep(1000, steps),
    decayStart: trainer === 'top_k' ? Math.min(scaledStep(24_000, steps), steps - 1) : null,
  };
  const resolved: Record<string, unknown> = {
    trainer,
    dictionary,
    dIn: c.dIn,
    dictSize,
    lr: c.lr ?? defaults.lr,
    betas: c.betas ?? defaults.betas,
    eps: c.eps ?? 1e-8,
    warmupSteps: c.warmupSteps ?? defaults.warmupSteps,
    decayStart: c.decayStart === undefined ? defaults.decayStart : c.decayStart,
    steps,
    batchSize: c.batchSize ?? 8192,
    seed: c.seed ?? 42,
  };
  const r = resolved as unknown as CommonResolved;
  if (r.warmupSteps >= steps && r.warmupSteps > 0) fail(prefix, 'warmupSteps', `must be < steps (${steps})`);
  if (r.decayStart !== null) {
    if (r.decayStart >= steps) fail(prefix, 'decayStart', `must be < steps (${steps})`);
    if (r.decayStart < r.warmupSteps) fail(prefix, 'decayStart', `must be >= warmupSteps (${r.warmupSteps})`);
  }

  switch (trainer) {
    case 'standard':
    case 'gated':
      resolved.l1Penalty = c.l1Penalty ?? DEFAULT_SPARSITY[trainer].l1Penalty;
      break;
    case 'p_anneal':
    case 'gated_anneal': {
      const annealEnd = (c.annealEnd as number | undefined) ?? steps; // trainers.md §5.3: anneal_end = steps
      const annealStart = (c.annealStart as number | undefined) ?? scaledStep(10_000, steps);
      if (annealEnd > steps) fail(prefix, 'annealEnd', `must be <= steps (${steps})`);
      if (annealStart >= annealEnd) fail(prefix, 'annealStart', `must be < annealEnd (${annealEnd})`);
      const n = (c.nSparsityUpdates as number | undefined) ?? Math.min(10, annealEnd - annealStart + 1);
      if (n > annealEnd - annealStart + 1) fail(prefix, 'nSparsityUpdates', `must be <= annealEnd - annealStart + 1 (${annealEnd - annealStart + 1})`);
      Object.assign(resolved, {
        initialSparsityPenalty: c.initialSparsityPenalty ?? DEFAULT_SPARSITY[trainer].initialSparsityPenalty,
        pStart: c.pStart ?? 1,
        pEnd: c.pEnd ?? 0.2,
        annealStart,
        annealEnd,
        nSparsityUpdates: n,
        sparsityQueueLength: c.sparsityQueueLength ?? 10,
      });
      if ((resolved.pStart as number) > 1) fail(prefix, 'pStart', 'must be <= 1 (Lp^p with p > 1 is not a sparsity penalty)');
      break;
    }
    case 'top_k':
    case 'batch_top_k': {
      if (c.k !== undefined && (c.k as number) > dictSize) fail(prefix, 'k', `must be <= dictSize (${dictSize})`);
      Object.assign(resolved, {
        k: (c.k as number | undefined) ?? Math.max(1, Math.min(DEFAULT_SPARSITY[trainer].k, Math.floor(dictSize / 4))),
        auxKCoeff: c.auxKCoeff ?? 1 / 32,
        deadTokensThreshold: c.deadTokensThreshold ?? 10_000_000,
        gradClip: c.gradClip ?? 1,
      });
      if (trainer === 'batch_top_k') {
        Object.assign(resolved, { thresholdBeta: c.thresholdBeta ?? 0.999, thresholdStartStep: c.thresholdStartStep ?? cappedScaledStep(1000, steps) });
      }
      break;
    }
    case 'jump_relu': {
      const sw = (c.sparsityWarmupSteps as number | undefined) ?? cappedScaledStep(2000, steps);
      if (sw >= steps && sw > 0) fail(prefix, 'sparsityWarmupSteps', `must be < steps (${steps})`);
      Object.assign(resolved, {
        sparsityPenalty: c.sparsityPenalty ?? 1,
        targetL0: c.targetL0 ?? 20,
        bandwidth: c.bandwidth ?? 0.001,
        sparsityWarmupSteps: sw,
        gradClip: c.gradClip ?? 1,
      });
      break;
    }
  }
  return resolved as unknown as TrainerConfig;
}

/** Stable identity of a trainer config (fully resolved, so default changes change the hash). */
export function trainerConfigHash(config: TrainerConfig): string {
  return configHash(config);
}

/** The sparsity hyperparameter a sweep varies, for display (λ, λ₀ or k). */
export function sparsityKnob(config: TrainerConfig): { name: string; value: number } {
  switch (config.trainer) {
    case 'standard':
    case 'gated':
      return { name: 'l1Penalty', value: config.l1Penalty };
    case 'p_anneal':
    case 'gated_anneal':
      return { name: 'initialSparsityPenalty', value: config.initialSparsityPenalty };
    case 'top_k':
    case 'batch_top_k':
      return { name: 'k', value: config.k };
    case 'jump_relu':
      return { name: 'targetL0', value: config.targetL0 };
  }
}
