import { InvalidArgumentError, type Command } from 'commander';
import { initBackend } from '../../tensor/backend.js';
import { openDatabase } from '../../db/pool.js';
import { SITES, type Site } from '../../lm/model.js';
import { prepareEvaluation, runEvaluation, type EvalJobOptions, type EvalJobResult } from '../../jobs/eval.js';
import { action, intOption } from '../action.js';

interface EvalCliOptions {
  sae: string[];
  dataset: string;
  bsp: string;
  lm?: string;
  layer?: number;
  site?: Site;
  trainGames: number;
  testGames: number;
  maxSampleGames?: number;
  context?: number;
  f1Floor: number;
  precisionFloor: number;
  topK: number;
  histogramBins: number;
  activations: boolean;
  db: boolean;
  export?: string;
  probes: boolean;
  lmBatch: number;
  encodeBatch: number;
  json?: boolean;
}

function fraction(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (!(x >= 0 && x <= 1)) throw new InvalidArgumentError(`--${name} must be a number in [0, 1], got "${v}"`);
    return x;
  };
}

function site(v: string): Site {
  if (!(SITES as readonly string[]).includes(v)) throw new InvalidArgumentError(`--site must be one of ${SITES.join(', ')}, got "${v}"`);
  return v as Site;
}

const fmt = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '   —  ' : x.toFixed(4));

function printSummary(r: EvalJobResult): void {
  const out = process.stdout;
  const res = r.result;
  out.write(`\n${r.saeDir}  (LM ${r.lmDir}, ${r.lmOrigin}; ${res.aliveFeatures}/${res.features} features alive)\n`);
  out.write(`  ${'family'.padEnd(28)} ${'coverage'.padStart(8)}   t   ${'reconstr.'.padStart(9)}   t\n`);
  for (const f of res.families) {
    const c = f.coverage;
    const rec = f.reconstruction;
    out.write(
      `  ${f.shortName.padEnd(28)} ${fmt(c.coverage).padStart(8)}  ${res.thresholds[c.bestThresholdIndex].toFixed(1)}  ${fmt(rec?.reconstruction).padStart(9)}  ${rec ? res.thresholds[rec.bestIndex].toFixed(1) : ' — '}\n`,
    );
  }
  if (res.strategy) out.write(`  ${`strategy (mean of ${res.strategy.families})`.padEnd(28)} ${fmt(res.strategy.coverage).padStart(8)}       ${fmt(res.strategy.reconstruction).padStart(9)}\n`);
  if (r.saeCheckpointId !== null) out.write(`  stored as sae_checkpoint ${r.saeCheckpointId} (${Object.entries(r.rowsWritten ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')})\n`);
  if (r.exportPath) out.write(`  exported ${r.exportPath}\n`);
}

export function register(program: Command): void {
  program
    .command('eval')
    .description(
      'Supervised evaluation of SAE checkpoints against board state properties (the paper\'s coverage and board reconstruction): ' +
        'feature maxima, 11 thresholds, per feature × BSP × threshold precision/recall/F1, high-precision labels, reconstruction on D_test; ' +
        'results go to Postgres (one transaction per SAE) and optionally to SAEBench-like JSON files',
    )
    .requiredOption('--sae <dirs...>', 'SAE checkpoint directories (saeboard, dictionary_learning or SAELens layout)')
    .requiredOption('--dataset <dir>', 'dataset directory (its train/test splits are D_train/D_test)')
    .option('--bsp <families>', 'BSP families: "default" (board state + strategy), "all", or a comma-separated list of short or code names', 'default')
    .option('--lm <dir>', 'LM checkpoint directory the SAEs read from (default: each SAE\'s provenance.lm)')
    .option('--layer <n>', 'block index (0-based) of the SAE input (default: provenance.layer)', intOption('layer', 0, 1000))
    .option('--site <site>', `hook site (${SITES.join(', ')}; default: provenance.site or resid_post)`, site)
    .option('--train-games <n>', 'D_train games (first n of the train split)', intOption('train-games', 1), 1000)
    .option('--test-games <n>', 'D_test games (first n of the test split)', intOption('test-games', 1), 1000)
    .option('--max-sample-games <n>', "D_train games whose every token position feeds the feature maxima (default: min(⌊n/2⌋, 1000) of the n D_train games, as the paper's code)", intOption('max-sample-games', 1))
    .option('--context <n>', 'tokens per game fed to the LM (default: Othello 59, chess 256)', intOption('context', 1))
    .option('--f1-floor <x>', 'store alignment rows with F1 ≥ x (plus every feature\'s and every BSP\'s best)', fraction('f1-floor'), 0.2)
    .option('--precision-floor <x>', 'also store rows with precision ≥ x and TP ≥ 10', fraction('precision-floor'), 0.95)
    .option('--top-k <n>', 'top activating positions stored per feature', intOption('top-k', 0, 1000), 20)
    .option('--histogram-bins <n>', 'activation histogram bins per feature', intOption('histogram-bins', 1, 1000), 16)
    .option('--no-activations', 'do not store the sparse feature activations (feature_activations partition)')
    .option('--no-db', 'compute (and export) only; write nothing to the database')
    .option('--export <dir>', 'write one SAEBench-like JSON result file per SAE into this directory')
    .option('--probes', 'also train linear probes on the same positions as a reference (slower)', false)
    .option('--lm-batch <n>', 'games per LM forward pass', intOption('lm-batch', 1, 4096), 16)
    .option('--encode-batch <n>', 'activation vectors per SAE encode', intOption('encode-batch', 1, 1 << 20), 1024)
    .option('--json', 'print the results as JSON instead of tables')
    .addHelpText(
      'after',
      `
Examples:
  saeboard eval --sae runs/othello/sae-0 runs/othello/sae-1 --dataset data/othello-eval
  saeboard eval --sae saes/chess/p_anneal --lm models/chess --layer 5 --dataset data/chess-eval --bsp all --export results/
  saeboard eval --sae saes/random/sae-0 --dataset data/othello-eval --no-db --export results/

Bad input (different LM/layer/tokenizer, missing BSP family, empty dataset, NaN weights or
activations) stops before anything is computed or written.`,
    )
    .action(
      action(async (o: EvalCliOptions) => {
        await initBackend();
        const job: EvalJobOptions = {
          saeDirs: o.sae,
          datasetDir: o.dataset,
          families: o.bsp,
          lmDir: o.lm,
          layer: o.layer,
          site: o.site,
          trainGames: o.trainGames,
          testGames: o.testGames,
          maxSampleGames: o.maxSampleGames,
          contextLength: o.context,
          stats: { alignmentF1Floor: o.f1Floor, alignmentPrecisionFloor: o.precisionFloor },
          topK: o.topK,
          histogramBins: o.histogramBins,
          storeActivations: o.activations,
          exportDir: o.export ?? null,
          probes: o.probes,
          lmBatchSize: o.lmBatch,
          encodeBatchSize: o.encodeBatch,
        };
        // every input is checked before the database is opened (nothing is written on bad input)
        const prepared = await prepareEvaluation(job, o.db);
        const db = o.db ? await openDatabase() : null;
        try {
          const results = await runEvaluation({ ...job, pool: db?.pool ?? null }, prepared);
          if (o.json) {
            process.stdout.write(
              JSON.stringify(
                results.map((r) => ({
                  sae: r.saeDir,
                  lm: r.lmDir,
                  lmOrigin: r.lmOrigin,
                  saeCheckpointId: r.saeCheckpointId,
                  export: r.exportPath,
                  evalConfigHash: r.evalConfigHash,
                  aliveFeatures: r.result.aliveFeatures,
                  families: r.result.families.map((f) => ({
                    name: f.name,
                    shortName: f.shortName,
                    coverage: f.coverage.coverage,
                    coverageThresholdIndex: f.coverage.bestThresholdIndex,
                    reconstruction: f.reconstruction?.reconstruction ?? null,
                    reconstructionThresholdIndex: f.reconstruction?.bestIndex ?? null,
                  })),
                  strategy: r.result.strategy,
                  probes: r.probes,
                  rowsWritten: r.rowsWritten,
                  timingsMs: r.timingsMs,
                })),
                null,
                2,
              ) + '\n',
            );
          } else for (const r of results) printSummary(r);
        } finally {
          await db?.close();
        }
      }),
    );
}
