/**
 * `saeboard sae ...`: train SAE sweeps from one activation stream, inspect, convert and evaluate
 * SAEs (docs/sae.md).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import YAML from 'yaml';
import { backendInfo, initBackend } from '../../compute/backend.js';
import { TRAINER_NAMES, sparsityKnob } from '../../compute/sae/config.js';
import { openSource } from '../../compute/sae/source.js';
import { runSweep, type SweepResult } from '../../compute/sae/sweep.js';
import { paperSweep, resolveSweep, sweepSourceOf, type SourceSpec } from '../../compute/sae/sweepConfig.js';
import { UserInputError } from '../../errors.js';
import { log } from '../../log.js';
import { formatNumber } from '../../progress.js';
import { PROJECT_ROOT } from '../../version.js';
import { action, intOption } from '../action.js';

const DEFAULT_SWEEPS_DIR = path.join(PROJECT_ROOT, '.saeboard', 'sae-sweeps');
const REGISTER_HELP = 'register the SAEs and checkpoints in the database (default: only when DATABASE_URL is set)';

async function readDoc(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new UserInputError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new UserInputError(`${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'} (${(err as Error).message.split('\n')[0]})`);
  }
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

async function sweepCommand(opts: { config: string; out?: string; progress: boolean; register?: boolean; resumeMinutes?: number }): Promise<void> {
  const doc = await readDoc(opts.config);
  // validate the config before opening (possibly loading an LM for) the source
  const prefix = path.basename(opts.config);
  const sourceSpec = sweepSourceOf(doc, prefix);
  if (sourceSpec.type === 'synthetic') resolveSweep(doc, null, prefix);
  await initBackend();
  log.info({ backend: backendInfo()?.name }, 'sae sweep');
  const source = await openSource(sourceSpec);
  const spec = resolveSweep(doc, source.dIn, prefix);
  const outDir = opts.out ?? spec.output ?? path.join(DEFAULT_SWEEPS_DIR, spec.name);
  const result = await runSweep(spec, source, { outDir, showProgress: opts.progress ? undefined : false, resumeMinutes: opts.resumeMinutes });
  printResult(result);
  if (opts.register ?? Boolean(process.env.DATABASE_URL)) await registerSweep(result);
  if (result.saes.some((s) => s.status === 'failed')) throw new UserInputError(`${result.saes.filter((s) => s.status === 'failed').length} SAE(s) diverged; see failed.json in their directories`);
}

interface TrainOpts {
  trainer: string;
  set: Record<string, unknown>;
  steps: number;
  batchSize: number;
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
  const doc = {
    name: path.basename(path.resolve(opts.out)).replace(/[^A-Za-z0-9._-]/g, '_') || 'sae',
    batchSize: opts.batchSize,
    buffer: { contexts: opts.contexts },
    source: sourceFromOptions(opts),
    trainers: [{ trainer: opts.trainer, steps: opts.steps, ...opts.set }],
  };
  sweepSourceOf(doc, 'sae train');
  await fs.mkdir(opts.out, { recursive: true });
  await fs.writeFile(path.join(opts.out, 'sweep.yaml'), YAML.stringify(doc));
  await sweepCommand({ config: path.join(opts.out, 'sweep.yaml'), out: opts.out, progress: opts.progress, register: opts.register });
}

async function paperSweepCommand(opts: { game: 'chess' | 'othello'; trainer: string; activations?: string; lm?: string; dataset?: string; layer?: number }): Promise<void> {
  const source = sourceFromOptions({ ...opts, layer: opts.layer ?? (opts.lm ? 5 : undefined) });
  const doc = paperSweep(opts.game, opts.trainer, source);
  resolveSweep(doc, 512); // the preset must validate (the paper's d = 512)
  process.stdout.write(`# The paper's ${opts.trainer} sweep for ${opts.game} (trainers.md §6); run with: saeboard sae sweep --config <this file>\n`);
  process.stdout.write(YAML.stringify(doc));
}

export function register(program: Command): void {
  const sae = program.command('sae').description('sparse autoencoders: train sweeps, inspect, convert, evaluate (docs/sae.md)');

  sae
    .command('sweep')
    .description('train every SAE of a sweep config from one activation stream; resumes a killed sweep in the same output directory')
    .requiredOption('-c, --config <file>', 'sweep config (YAML or JSON): source, buffer, checkpoints, trainers with grid axes')
    .option('-o, --out <dir>', `output directory (default: the config's "output", else ${path.relative(process.cwd(), DEFAULT_SWEEPS_DIR) || DEFAULT_SWEEPS_DIR}/<name>)`)
    .option('--resume-minutes <n>', 'write an exact-resume point at least this often (minutes)', intOption('resume-minutes', 1))
    .option('--no-progress', 'no progress bar')
    .option('--register', REGISTER_HELP)
    .option('--no-register', 'do not register in the database')
    .action(action(sweepCommand));

  sae
    .command('train')
    .description('train one SAE (a one-trainer sweep) on activations from an activation set or the LM')
    .requiredOption('-t, --trainer <name>', `trainer: ${TRAINER_NAMES.join(', ')}`)
    .requiredOption('-o, --out <dir>', 'output directory (checkpoints, final/, log.jsonl)')
    .option('--set <key=value>', 'trainer config field, repeatable (e.g. --set l1Penalty=0.05 --set expansion=8)', collectSet, {})
    .option('--steps <n>', 'training steps', intOption('steps', 1), 36_621)
    .option('--batch-size <n>', 'activation vectors per step', intOption('batch-size', 1), 8192)
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
    .action(action(trainCommand));

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
}
