/**
 * `saeboard sae ...`: train SAE sweeps from one activation stream, inspect, convert and evaluate
 * SAEs (docs/sae.md).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import YAML from 'yaml';
import { backendInfo, initBackend } from '../../tensor/backend.js';
import { DEFAULT_EXPANSION, DEFAULT_SPARSITY, PAPER_STEPS, TRAINER_NAMES, sparsityKnob } from '../../sae/config.js';
import { evaluateUnsupervised } from '../../sae/evaluate.js';
import { exportSae, loadSae, SAE_FORMATS, type SaeFormat } from '../../sae/interop.js';
import { activationSetSource, lmSource, openSource, type ActivationSource } from '../../sae/source.js';
import type { SaeDirConfig } from '../../sae/storage.js';
import { runSweep, type SweepResult } from '../../sae/sweep.js';
import { DEFAULT_SWEEP_LIMITS, FIT_MIN_BATCH, FIT_MIN_STEPS, fitStepsToData, paperSweep, parseConfigText, resolveSweep, sweepSourceOf, type SourceSpec } from '../../sae/sweepConfig.js';
import { UserInputError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { log } from '../../log.js';
import { formatNumber } from '../../progress.js';
import { PROJECT_ROOT } from '../../version.js';
import { action, intOption } from '../action.js';
import { exitCodeFor, exitInterrupted, onInterrupt } from '../signals.js';

const DEFAULT_SWEEPS_DIR = path.join(PROJECT_ROOT, '.saeboard', 'sae-sweeps');
const REGISTER_HELP = 'register the SAEs and checkpoints in the database (default: only when DATABASE_URL is set)';

async function readDoc(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new UserInputError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseConfigText(text, file);
}

/** `--set key=value`: numbers, booleans, JSON arrays/objects, else strings. */
function collectSet(value: string, prev: Record<string, unknown>): Record<string, unknown> {
  const i = value.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`--set expects key=value, got "${value}"`);
  const key = value.slice(0, i).trim();
  const raw = value.slice(i + 1).trim();
  let v: unknown = raw;
  if (raw === 'true' || raw === 'false') v = raw === 'true';
  else if (raw !== '' && Number.isFinite(Number(raw))) v = Number(raw);
  else if (/^[[{]/.test(raw)) {
    try {
      v = JSON.parse(raw);
    } catch {
      throw new InvalidArgumentError(`--set ${key}: cannot parse ${raw} as JSON`);
    }
  }
  return { ...prev, [key]: v };
}

function sourceFromOptions(o: { activations?: string; lm?: string; dataset?: string; layer?: number; site?: string; context?: number }): SourceSpec {
  if (o.activations) return { type: 'activations', path: o.activations };
  if (o.lm) {
    if (!o.dataset) throw new UserInputError('--lm needs --dataset (the game dataset to run the LM on)');
    if (o.layer === undefined) throw new UserInputError('--lm needs --layer (paper: 5)');
    return { type: 'lm', model: o.lm, dataset: o.dataset, layer: o.layer, ...(o.site ? { site: o.site } : {}), ...(o.context ? { contextLength: o.context } : {}) };
  }
  throw new UserInputError('give the activations: --activations DIR (from `saeboard lm activations`) or --lm MODEL --dataset DIR --layer N');
}

async function registerSweep(result: SweepResult): Promise<void> {
  const { registerSweepDir } = await import('../../jobs/sae.js');
  const { openDatabase } = await import('../../db/pool.js');
  const db = await openDatabase();
  try {
    const r = await registerSweepDir(db.pool, result.outDir);
    process.stdout.write(`registered ${r.saes} SAE(s), ${r.checkpoints} checkpoint(s) in the database\n`);
  } finally {
    await db.close();
  }
}

function printResult(result: SweepResult): void {
  const rows = result.saes.map((s) => {
    const knob = sparsityKnob(s.config);
    const last = s.last;
    return `${s.name.padEnd(10)} ${s.config.trainer.padEnd(12)} m=${String(s.config.dictSize).padEnd(6)} ${knob.name}=${formatNumber(knob.value).padEnd(8)} ${s.status.padEnd(8)}${
      last ? ` L0=${formatNumber(last.l0)} FVE=${formatNumber(last.fve)} MSE=${formatNumber(last.mse)}` : ''
    }${s.error ? `  (${s.error})` : ''}`;
  });
  process.stdout.write(`${rows.join('\n')}\n${result.resumedFrom !== null ? `resumed from step ${result.resumedFrom}; ` : ''}ran ${result.stepsRun} step(s) → ${result.outDir}\n`);
}

interface LimitOpts {
  maxSaes?: number;
  maxWork?: number;
}

interface RunOpts extends LimitOpts {
  out?: string;
  progress: boolean;
  register?: boolean;
  resumeMinutes?: number;
}

function addLimitOptions(cmd: Command): Command {
  return cmd
    .option('--max-saes <n>', `refuse sweeps with more SAEs than this (default ${DEFAULT_SWEEP_LIMITS.maxSaes}, or limits.maxSaes in the config)`, intOption('max-saes', 1))
    .option('--max-work <n>', `refuse sweeps whose steps × batch summed over SAEs exceeds this (default ${DEFAULT_SWEEP_LIMITS.maxWork.toExponential()}, or limits.maxWork)`, positiveNumberOption('max-work'));
}

function positiveNumberOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`--${name} must be a number > 0, got "${value}"`);
    return n;
  };
}

const limitsOf = (o: LimitOpts) => ({ maxSaes: o.maxSaes, maxWork: o.maxWork });

async function sweepCommand(opts: RunOpts & { config: string }): Promise<void> {
  const doc = await readDoc(opts.config);
  // validate the config before opening (possibly loading an LM for) the source
  const prefix = path.basename(opts.config);
  const sourceSpec = sweepSourceOf(doc, prefix);
  resolveSweep(doc, 'unknown', prefix, limitsOf(opts));
  await initBackend();
  log.info({ backend: backendInfo()?.name }, 'sae sweep');
  await trainSweep(doc, prefix, await openSource(sourceSpec), opts);
}

/**
 * Train a validated sweep document on an opened source (shared by `sae sweep` and `sae train`);
 * `onStart` runs once every check passed, right before the first write.
 */
async function trainSweep(doc: unknown, prefix: string, source: ActivationSource, opts: RunOpts, onStart?: () => Promise<void>): Promise<void> {
  const spec = resolveSweep(doc, source.dIn, prefix, limitsOf(opts));
  const outDir = opts.out ?? spec.output ?? path.join(DEFAULT_SWEEPS_DIR, spec.name);
  // Ctrl-C/SIGTERM: finish the current step, write a resume point, exit 130/143 (a second one kills)
  const stop = new AbortController();
  let stoppedBy: NodeJS.Signals = 'SIGINT';
  const release = onInterrupt((signal) => {
    if (stop.signal.aborted) exitInterrupted(signal, `the last resume point in ${outDir} is kept`);
    process.stderr.write('\nsaeboard: stopping after this step (Ctrl-C again to kill; the last resume point is kept)\n');
    stoppedBy = signal;
    stop.abort();
  });
  let result: SweepResult;
  try {
    result = await runSweep(spec, source, {
      outDir,
      showProgress: opts.progress ? undefined : false,
      resumeMinutes: opts.resumeMinutes,
      signal: stop.signal,
      hooks: onStart ? { onStart } : undefined,
    });
  } finally {
    release();
  }
  printResult(result);
  if (result.interrupted) {
    process.stderr.write(`saeboard: interrupted; run the same command again to resume from ${outDir}\n`);
    process.exit(exitCodeFor(stoppedBy));
  }
  if (opts.register ?? Boolean(process.env.DATABASE_URL)) await registerSweep(result);
  if (result.saes.some((s) => s.status === 'failed')) throw new UserInputError(`${result.saes.filter((s) => s.status === 'failed').length} SAE(s) diverged; see failed.json in their directories`);
}

interface TrainOpts extends LimitOpts {
  trainer: string;
  set: Record<string, unknown>;
  steps?: number;
  batchSize?: number;
  repeat?: boolean;
  out: string;
  activations?: string;
  lm?: string;
  dataset?: string;
  layer?: number;
  site?: string;
  context?: number;
  contexts: number;
  progress: boolean;
  register?: boolean;
}

async function trainCommand(opts: TrainOpts): Promise<void> {
  const sourceSpec = { ...sourceFromOptions(opts), ...(opts.repeat ? { repeat: true } : {}) };
  const docWith = (steps: number, batchSize: number) => ({
    name: path.basename(path.resolve(opts.out)).replace(/[^A-Za-z0-9._-]/g, '_') || 'sae',
    batchSize,
    buffer: { contexts: opts.contexts },
    source: sourceSpec,
    trainers: [{ trainer: opts.trainer, steps, ...opts.set }],
  });
  // every field but the fitted ones is checked before the source is opened (an LM may load)
  resolveSweep(docWith(opts.steps ?? PAPER_STEPS, opts.batchSize ?? 8192), 'unknown', 'sae train', limitsOf(opts));
  await initBackend();
  log.info({ backend: backendInfo()?.name }, 'sae train');
  const source = await openSource(sourceSpec);
  const where = opts.activations ?? `${opts.lm} on ${opts.dataset}`;
  const fit = fitStepsToData(source.totalVectors, opts);
  const steps = fit?.steps ?? opts.steps!;
  const batchSize = fit?.batchSize ?? opts.batchSize ?? 8192;
  if (fit) {
    if (steps < 1) {
      throw new UserInputError(`${where} holds ${source.totalVectors} activation vectors, fewer than one batch of ${batchSize}; give a smaller --batch-size or collect more activations`);
    }
    process.stderr.write(
      `saeboard: notice: training ${steps} steps × batch ${batchSize} = one pass over the ${source.totalVectors} vectors of ${where}` +
        `${steps === PAPER_STEPS ? " (capped at the paper's 36,621 steps)" : ''}; set --steps/--batch-size to choose\n`,
    );
  } else if (!opts.repeat && steps * batchSize > source.totalVectors) {
    throw new UserInputError(
      `--steps ${steps} × batch ${batchSize} need ${steps * batchSize} activation vectors but ${where} holds ${source.totalVectors}; leave out --steps (one pass over the data), lower it, or pass --repeat to cycle through the set`,
    );
  }
  const doc = docWith(steps, batchSize);
  resolveSweep(doc, source.dIn, 'sae train', limitsOf(opts));
  // the resolved choice is kept (rerunning the same command resumes the same run), written only
  // once every check passed: a mistake leaves no directory behind
  await trainSweep(doc, 'sae train', source, { out: opts.out, progress: opts.progress, register: opts.register, ...limitsOf(opts) }, async () => {
    await fs.mkdir(opts.out, { recursive: true });
    await writeFileAtomic(path.join(opts.out, 'sweep.yaml'), YAML.stringify(doc));
  });
}

async function paperSweepCommand(opts: { game: 'chess' | 'othello'; trainer: string; activations?: string; lm?: string; dataset?: string; layer?: number }): Promise<void> {
  const source = sourceFromOptions({ ...opts, layer: opts.layer ?? (opts.lm ? 5 : undefined) });
  const doc = paperSweep(opts.game, opts.trainer, source);
  resolveSweep(doc, 512); // the preset must validate (the paper's d = 512)
  process.stdout.write(`# The paper's ${opts.trainer} sweep for ${opts.game} (trainers.md §6); run with: saeboard sae sweep --config <this file>\n`);
  process.stdout.write(YAML.stringify(doc));
}


function formatOption(value: string): SaeFormat {
  const v = value.replace('-', '_');
  if (!(SAE_FORMATS as string[]).includes(v)) throw new InvalidArgumentError(`--format must be one of ${SAE_FORMATS.join(', ')}, got "${value}"`);
  return v as SaeFormat;
}

function describeSae(cfg: SaeDirConfig, format: string): string {
  const p = (cfg.provenance ?? {}) as Record<string, unknown>;
  const lm = p.lm as { name?: string; dir?: string } | undefined;
  const lines = [
    `format        ${format}`,
    `dictionary    ${cfg.dictionary}  d_in ${cfg.dIn}  d_sae ${cfg.dictSize}${cfg.meta.k !== undefined ? `  k ${cfg.meta.k}` : ''}`,
    `trainer       ${cfg.trainer ? `${cfg.trainer.trainer}  ${sparsityKnob(cfg.trainer).name} ${formatNumber(sparsityKnob(cfg.trainer).value)}  lr ${formatNumber(cfg.trainer.lr)}  steps ${cfg.trainer.steps}  batch ${cfg.trainer.batchSize}` : '(unknown)'}`,
    `step          ${cfg.step ?? '-'}${cfg.tokensSeen ? `  (${formatNumber(cfg.tokensSeen)} tokens)` : ''}`,
    `lm            ${lm ? `${lm.name ?? ''} ${lm.dir ?? ''}`.trim() : '-'}  layer ${p.layer ?? '-'}  site ${p.site ?? '-'}`,
    `config hash   ${cfg.configHash ?? '-'}`,
    `code version  ${cfg.codeVersion}`,
  ];
  return lines.join('\n') + '\n';
}

async function infoCommand(dir: string, opts: { json?: boolean }): Promise<void> {
  await initBackend();
  const { dictionary, config, format } = await loadSae(dir);
  dictionary.dispose();
  process.stdout.write(opts.json ? JSON.stringify({ ...config, layout: format }, null, 2) + '\n' : describeSae(config, format));
}

async function exportCommand(dir: string, opts: { format: SaeFormat; out: string }): Promise<void> {
  await initBackend();
  const { dictionary, config } = await loadSae(dir);
  try {
    const files = await exportSae(dictionary, config, opts.out, opts.format);
    process.stdout.write(`wrote ${files.join(', ')} (${opts.format}) → ${opts.out}\n`);
  } finally {
    dictionary.dispose();
  }
}

async function importCommand(dir: string, opts: { out: string; lm?: string; layer?: number; site?: string }): Promise<void> {
  await initBackend();
  const { dictionary, config, format } = await loadSae(dir);
  try {
    if (format === 'saeboard') throw new UserInputError(`${dir} is already a saeboard SAE`);
    const prov = { ...(config.provenance ?? {}) };
    if (opts.lm) {
      const { readMeta, modelConfigHash } = await import('../../lm/checkpoint.js');
      const { resolveModelPath } = await import('../../lm/models.js');
      const lmDir = path.resolve(resolveModelPath(opts.lm));
      const meta = await readMeta(lmDir);
      prov.lm = { dir: lmDir, name: meta.name, configHash: modelConfigHash(meta) };
    }
    if (opts.layer !== undefined) prov.layer = opts.layer;
    if (opts.site) prov.site = opts.site;
    await exportSae(dictionary, { ...config, provenance: prov }, opts.out, 'saeboard');
    process.stdout.write(`imported ${format} SAE (${config.dictionary}, ${config.dIn}×${config.dictSize}) → ${opts.out}\n`);
  } finally {
    dictionary.dispose();
  }
}

interface MetricsOpts {
  activations?: string;
  dataset?: string;
  split: 'train' | 'test' | 'all';
  lm?: string;
  layer?: number;
  site?: string;
  context?: number;
  tokens: number;
  seed: number;
  lossContexts: number;
  json?: boolean;
  register?: boolean;
}

async function metricsCommand(dirs: string[], opts: MetricsOpts): Promise<void> {
  if (!opts.activations && !opts.dataset) throw new UserInputError('give the activations to evaluate on: --activations DIR, or --dataset DIR (run through the LM)');
  await initBackend();
  const { loadModelDir, modelConfigHash } = await import('../../lm/checkpoint.js');
  const { resolveModelPath } = await import('../../lm/models.js');
  const { datasetSequences } = await import('../../lm/dataset.js');
  const { parseSite } = await import('../../lm/model.js');
  const lms = new Map<string, Awaited<ReturnType<typeof loadModelDir>>>();
  const lmFor = async (dir: string) => {
    const abs = path.resolve(resolveModelPath(dir));
    if (!lms.has(abs)) lms.set(abs, await loadModelDir(abs));
    return lms.get(abs)!;
  };
  const actSource = opts.activations ? await activationSetSource(opts.activations) : null;
  const data = opts.dataset ? await datasetSequences(opts.dataset, { split: opts.split }) : null;
  const register = opts.register ?? Boolean(process.env.DATABASE_URL);
  let pool: import('pg').Pool | null = null;
  let closeDb: (() => Promise<void>) | null = null;
  if (register) {
    const { openDatabase } = await import('../../db/pool.js');
    const db = await openDatabase();
    pool = db.pool;
    closeDb = () => db.close();
  }
  try {
    for (const dir of dirs) {
      const { dictionary, config } = await loadSae(dir);
      try {
        const p = (config.provenance ?? {}) as Record<string, unknown>;
        const provLm = p.lm as { dir?: string } | string | undefined;
        const lmDir = opts.lm ?? (typeof provLm === 'string' ? provLm : provLm?.dir);
        const layer = opts.layer ?? (typeof p.layer === 'number' ? p.layer : undefined);
        const site = parseSite(opts.site ?? (typeof p.site === 'string' ? p.site : 'resid_post'));
        let source: ActivationSource;
        let lr: Parameters<typeof evaluateUnsupervised>[2]['lossRecovered'];
        if (data) {
          if (!lmDir) throw new UserInputError(`SAE ${dir}: no LM (pass --lm; its config.json has no provenance.lm)`);
          if (layer === undefined) throw new UserInputError(`SAE ${dir}: no layer (pass --layer; its config.json has no provenance.layer)`);
          const lm = await lmFor(lmDir);
          const T = opts.context ?? Math.min(data.length, lm.model.config.nCtx);
          source = lmSource({ model: lm.model, data, layer, site, contextLength: T, lmBatchSize: 32, info: { model: lm.meta.name } });
          lr = opts.lossContexts > 0 ? { model: lm.model, layer, site, data, contexts: opts.lossContexts, contextLength: T, lmId: modelConfigHash(lm.meta) } : undefined;
        } else {
          source = actSource!;
        }
        if (source.dIn !== config.dIn) throw new UserInputError(`SAE ${dir} expects ${config.dIn}-dim inputs but the activations have d = ${source.dIn}`);
        log.info({ sae: dir, vectors: opts.tokens, lossContexts: lr ? lr.contexts : 0 }, 'evaluating');
        const res = await evaluateUnsupervised(dictionary, source, { nVectors: opts.tokens, seed: opts.seed, lossRecovered: lr });
        if (opts.json) {
          process.stdout.write(JSON.stringify({ sae: dir, evalConfigHash: res.evalConfigHash, metrics: Object.fromEntries(res.rows.map((r) => [r.metric, r.value])) }) + '\n');
        } else {
          const m = res.reconstruction;
          const l = res.lossRecovered;
          process.stdout.write(
            `${dir}\n  L0 ${formatNumber(m.l0)}  FVE ${formatNumber(m.fracVarianceExplained)}  MSE ${formatNumber(m.mse)}  L1 ${formatNumber(m.l1Loss)} (normalised ${formatNumber(m.l1Normalized)})  cos ${formatNumber(m.cossim)}  γ ${formatNumber(m.relativeReconstructionBias)}\n` +
              `  alive ${m.aliveFeatures}/${config.dictSize}  dead ${m.deadFeatures}  dense ${m.denseFeatures}  (${m.nVectors} vectors, seed ${opts.seed})\n` +
              (l ? `  loss recovered ${formatNumber(l.fracRecovered)}  (H_orig ${formatNumber(l.lossOriginal)}, H_sae ${formatNumber(l.lossReconstructed)}, H_0 ${formatNumber(l.lossZero)}, ${l.contexts} contexts)\n` : '  loss recovered: -  (needs --dataset and the LM)\n'),
          );
        }
        if (pool) {
          const { storeUnsupervisedMetrics } = await import('../../jobs/sae.js');
          const r = await storeUnsupervisedMetrics(pool, dir, res.rows, res.evalConfig, res.evalConfigHash);
          process.stdout.write(`  stored ${r.rows} metric rows for sae_checkpoint #${r.saeCheckpointId} (eval config ${res.evalConfigHash.slice(0, 12)})\n`);
        }
      } finally {
        dictionary.dispose();
      }
    }
  } finally {
    for (const lm of lms.values()) lm.model.dispose();
    await closeDb?.();
  }
}

async function registerCommand(dir: string): Promise<void> {
  // registration also registers the sweep's LM, which it loads in full (tf tensors need the backend)
  await initBackend();
  const { registerSweepDir } = await import('../../jobs/sae.js');
  const { openDatabase } = await import('../../db/pool.js');
  const db = await openDatabase();
  try {
    const r = await registerSweepDir(db.pool, dir);
    process.stdout.write(`registered ${r.saes} SAE(s), ${r.checkpoints} checkpoint(s) of ${dir}\n`);
  } finally {
    await db.close();
  }
}

const trainDefaultsHelp = `
Defaults (docs/sae.md), so that \`saeboard sae train -t <trainer> --activations DIR -o OUT\` trains as is:
  dictionary    expansion ${DEFAULT_EXPANSION} (dictSize = ${DEFAULT_EXPANSION} × d_in; the paper swept 8 and 16)
  sparsity      standard l1Penalty ${DEFAULT_SPARSITY.standard.l1Penalty}, gated l1Penalty ${DEFAULT_SPARSITY.gated.l1Penalty},
                p_anneal initialSparsityPenalty ${DEFAULT_SPARSITY.p_anneal.initialSparsityPenalty}, gated_anneal initialSparsityPenalty ${DEFAULT_SPARSITY.gated_anneal.initialSparsityPenalty}
                (inside the paper's sweeps for both games: trainers.md §6), top_k and batch_top_k
                k ${DEFAULT_SPARSITY.top_k.k} (at most dictSize/4), jump_relu targetL0 20 (dictionary_learning)
  steps/batch   one pass over the activations (at most 36,621 steps), batch 8192 halved down to ${FIT_MIN_BATCH}
                while that pass is under ${FIT_MIN_STEPS} steps; a notice on stderr says what was chosen
  warm-up       1000 steps (top_k: none), scaled by steps/36,621 for shorter runs; likewise the
                batch_top_k threshold start (1000) and the jump_relu sparsity warm-up (2000)

Examples:
  saeboard sae train -t p_anneal --activations runs/acts/l5 -o runs/sae/p-anneal
  saeboard sae train -t top_k --activations runs/acts/l5 -o runs/sae/topk --set k=32 --set expansion=16 --steps 20000
`;

export function register(program: Command): void {
  const sae = program.command('sae').description('sparse autoencoders: train sweeps, inspect, convert, evaluate (docs/sae.md)');

  const sweepCmd = sae
    .command('sweep')
    .description('train every SAE of a sweep config from one activation stream; resumes a killed sweep in the same output directory')
    .requiredOption('-c, --config <file>', 'sweep config (YAML or JSON): source, buffer, checkpoints, trainers with grid axes')
    .option('-o, --out <dir>', `output directory (default: the config's "output", else ${path.relative(process.cwd(), DEFAULT_SWEEPS_DIR) || DEFAULT_SWEEPS_DIR}/<name>)`)
    .option('--resume-minutes <n>', 'write an exact-resume point at least this often (minutes)', intOption('resume-minutes', 1))
    .option('--no-progress', 'no progress bar')
    .option('--register', REGISTER_HELP)
    .option('--no-register', 'do not register in the database');
  addLimitOptions(sweepCmd).action(action(sweepCommand));

  const trainCmd = sae
    .command('train')
    .description('train one SAE (a one-trainer sweep) on activations from an activation set or the LM')
    .requiredOption('-t, --trainer <name>', `trainer: ${TRAINER_NAMES.join(', ')}`)
    .requiredOption('-o, --out <dir>', 'output directory (checkpoints, final/, log.jsonl)')
    .option('--set <key=value>', 'trainer config field, repeatable (e.g. --set l1Penalty=0.05 --set expansion=16); see the defaults below', collectSet, {})
    .option('--steps <n>', "training steps (default: one pass over the activations, at most the paper's 36,621; printed)", intOption('steps', 1))
    .option('--batch-size <n>', `activation vectors per step (default 8192; without --steps, halved down to ${FIT_MIN_BATCH} while one pass is under ${FIT_MIN_STEPS} steps)`, intOption('batch-size', 1))
    .option('--repeat', 'cycle through the activations when --steps × --batch-size needs more vectors than they hold')
    .option('--contexts <n>', 'contexts held by the shuffle buffer', intOption('contexts', 1), 1000)
    .option('--activations <dir>', 'activation set directory (saeboard lm activations)')
    .option('--lm <model>', 'LM checkpoint dir or shipped model name, run on the fly')
    .option('--dataset <dir>', 'game dataset for --lm')
    .option('--layer <n>', 'block index for --lm (paper: 5)', intOption('layer', 0))
    .option('--site <site>', 'hook site for --lm (default resid_post)')
    .option('--context <n>', 'tokens per row for --lm (chess: 256, Othello: 59)', intOption('context', 1))
    .option('--no-progress', 'no progress bar')
    .option('--register', REGISTER_HELP)
    .option('--no-register', 'do not register in the database')
    .addHelpText('after', trainDefaultsHelp);
  addLimitOptions(trainCmd).action(action(trainCommand));

  sae
    .command('paper-sweep')
    .description("print the paper's sweep (trainers.md §6) as a sweep config")
    .requiredOption('-g, --game <game>', 'chess or othello', (v: string) => {
      if (v !== 'chess' && v !== 'othello') throw new InvalidArgumentError('--game must be chess or othello');
      return v;
    })
    .requiredOption('-t, --trainer <name>', 'standard, p_anneal, gated, gated_anneal or top_k')
    .option('--activations <dir>', 'activation set to train on')
    .option('--lm <model>', 'or: LM checkpoint run on the fly')
    .option('--dataset <dir>', 'game dataset for --lm')
    .option('--layer <n>', 'block index for --lm (default 5)', intOption('layer', 0))
    .action(action(paperSweepCommand));

  sae
    .command('info')
    .description('describe an SAE directory (saeboard, dictionary_learning or SAELens layout)')
    .argument('<dir>', 'SAE directory (e.g. <sweep>/trainer0/final)')
    .option('--json', 'print the full config as JSON')
    .action(action(infoCommand));

  sae
    .command('export')
    .description('write an SAE in the dictionary_learning (ae.pt + config.json) or SAELens (sae_weights.safetensors + cfg.json) layout')
    .argument('<dir>', 'SAE directory')
    .requiredOption('-f, --format <format>', `target layout: ${SAE_FORMATS.join(', ')}`, formatOption)
    .requiredOption('-o, --out <dir>', 'output directory')
    .action(action(exportCommand));

  sae
    .command('import')
    .description('convert a dictionary_learning or SAELens SAE into a saeboard SAE directory (for evaluation and registration)')
    .argument('<dir>', 'SAE directory in another layout')
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--lm <model>', 'the LM checkpoint it was trained on (recorded as provenance)')
    .option('--layer <n>', 'the block it reads (recorded as provenance)', intOption('layer', 0))
    .option('--site <site>', 'the hook site it reads (default resid_post)')
    .action(action(importCommand));

  sae
    .command('metrics')
    .description('unsupervised metrics: L0, variance explained, MSE, L1, cosine, dead/dense features, density histogram, loss recovered')
    .argument('<dirs...>', 'SAE directories (any supported layout)')
    .option('--activations <dir>', 'activation set to sample from')
    .option('--dataset <dir>', 'game dataset run through the LM (needed for loss recovered)')
    .option('--split <split>', 'dataset split: train, test or all', (v: string) => {
      if (v !== 'train' && v !== 'test' && v !== 'all') throw new InvalidArgumentError('--split must be train, test or all');
      return v;
    }, 'train')
    .option('--lm <model>', "the LM (default: the SAE's provenance)")
    .option('--layer <n>', "block index (default: the SAE's provenance)", intOption('layer', 0))
    .option('--site <site>', "hook site (default: the SAE's provenance, else resid_post)")
    .option('--context <n>', 'tokens per row (default: the dataset row length, capped at the LM context)', intOption('context', 1))
    .option('--tokens <n>', 'activation vectors sampled (the paper used one batch of 25)', intOption('tokens', 2), 8192)
    .option('--seed <n>', 'sampling seed (part of the eval config)', intOption('seed', 0), 0)
    .option('--loss-contexts <n>', 'dataset rows for loss recovered (paper: 25; 0 = skip)', intOption('loss-contexts', 0), 25)
    .option('--json', 'one JSON line per SAE')
    .option('--register', 'store the metrics in the database (default: only when DATABASE_URL is set)')
    .option('--no-register', 'do not store in the database')
    .action(action(metricsCommand));

  sae
    .command('register')
    .description('register a sweep directory (its SAEs and kept checkpoints) in the database')
    .argument('<dir>', 'sweep output directory')
    .action(action(registerCommand));
}
