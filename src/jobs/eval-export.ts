/**
 * One JSON file per evaluated SAE, in SAEBench's result layout (sae_bench/evals/base_eval_output.py:
 * eval_type_id, eval_config, eval_id, datetime_epoch_millis, eval_result_metrics (categories →
 * metrics), eval_result_details (list), sae_bench_commit_hash, sae_lens_id, sae_lens_release_id,
 * sae_lens_version, eval_result_unstructured), so tools that read SAEBench results can read these.
 * SAEBench-specific ids are null (these SAEs are not SAELens releases); saeboard's own
 * provenance sits in `saeboard`, and the paper's CSV column names (f1_analysis.py) in
 * `eval_result_unstructured.paper_csv_columns` for side-by-side comparison with the published CSVs.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { SupervisedEvalResult } from '../eval/index.js';
import type { ProbeResult } from '../lm/probe.js';
import { codeVersionString } from '../version.js';
import type { DatasetInputs, SaeInput } from './eval-inputs.js';

export const EVAL_TYPE_ID = 'saeboard_board_game_bsp';

/** File name for an SAE directory: its path relative to the working directory, made flat. */
export function exportFileName(saeDir: string): string {
  const rel = path.relative(process.cwd(), path.resolve(saeDir)) || path.basename(path.resolve(saeDir));
  const slug = rel.replace(/^(\.\.[/\\])+/, '').replace(/[/\\]+/g, '__').replace(/[^A-Za-z0-9._-]/g, '_');
  return `${slug}_${EVAL_TYPE_ID}_eval_results.json`;
}

export interface ExportInput {
  sae: SaeInput;
  data: DatasetInputs;
  result: SupervisedEvalResult;
  evalConfig: Record<string, unknown>;
  evalConfigHash: string;
  lmOrigin: string;
  probes: ProbeResult[] | null;
}

export function buildExport(x: ExportInput): Record<string, unknown> {
  const { result, sae, data } = x;
  const board = result.families.find((f) => f.group === 'board_state') ?? null;
  const csv: Record<string, unknown> = {};
  for (const f of result.families) {
    csv[`${f.name}_best_average_f1`] = f.coverage.coverage;
    csv[`${f.name}_best_average_f1_idx`] = f.coverage.bestThresholdIndex;
    csv[`${f.name}_all_average_f1s`] = JSON.stringify(f.coverage.perThreshold);
    if (f.reconstruction) {
      csv[`${f.name}_best_f1_score_per_class`] = f.reconstruction.reconstruction;
      csv[`${f.name}_best_idx`] = f.reconstruction.bestIndex;
      csv[`${f.name}_last_f1_score_per_class`] = f.reconstruction.lastF1PerClass;
      csv[`${f.name}_num_squares`] = f.reconstruction.trueCells;
      csv[`${f.name}_num_boards`] = f.reconstruction.boards;
    }
  }
  csv.num_alive_features = result.aliveFeatures;
  return {
    eval_type_id: EVAL_TYPE_ID,
    eval_config: x.evalConfig,
    eval_id: randomUUID(),
    datetime_epoch_millis: Date.now(),
    eval_result_metrics: {
      board_state: board
        ? {
            family: board.name,
            coverage: board.coverage.coverage,
            coverage_threshold: result.thresholds[board.coverage.bestThresholdIndex],
            reconstruction: board.reconstruction?.reconstruction ?? null,
            reconstruction_threshold: board.reconstruction ? result.thresholds[board.reconstruction.bestIndex] : null,
          }
        : null,
      strategy: result.strategy
        ? { families: result.strategy.families, coverage: result.strategy.coverage, reconstruction: result.strategy.reconstruction }
        : null,
      features: {
        dict_size: result.features,
        num_alive_features: result.aliveFeatures,
        frac_alive: result.aliveFeatures / result.features,
        maxima_samples: result.maximaSamples,
      },
    },
    eval_result_details: result.families.map((f) => ({
      family: f.name,
      short_name: f.shortName,
      group: f.group,
      cells: f.cells,
      coverage_denominator: f.coverageDenominator,
      coverage: f.coverage.coverage,
      coverage_best_threshold_index: f.coverage.bestThresholdIndex,
      coverage_per_threshold: f.coverage.perThreshold,
      cells_with_aligned_feature: f.coverage.cellsWithAlignedFeature,
      reconstruction: f.reconstruction?.reconstruction ?? null,
      reconstruction_best_threshold_index: f.reconstruction?.bestIndex ?? null,
      reconstruction_f1_per_class: f.reconstruction?.f1PerClass ?? null,
      reconstruction_f1_per_square: f.reconstruction?.f1PerSquare ?? null,
      reconstruction_last_f1_per_class: f.reconstruction?.lastF1PerClass ?? null,
      reconstruction_counts: f.reconstruction
        ? { tp: f.reconstruction.tp, fp: f.reconstruction.fp, fn: f.reconstruction.fn, tfp: f.reconstruction.tfp, true_cells: f.reconstruction.trueCells, boards: f.reconstruction.boards }
        : null,
      probe: x.probes?.find((p) => p.family === f.shortName) ?? null,
    })),
    sae_bench_commit_hash: null,
    sae_lens_id: null,
    sae_lens_release_id: null,
    sae_lens_version: null,
    eval_result_unstructured: {
      paper_csv_columns: csv,
      high_precision_labels_per_threshold: result.train.labelCount,
      alignment_rows: result.train.alignments.length,
      timings_ms: result.timingsMs,
    },
    saeboard: {
      code_version: codeVersionString(),
      eval_config_hash: x.evalConfigHash,
      sae: {
        dir: path.resolve(sae.dir),
        dictionary: sae.config.dictionary,
        trainer: sae.config.trainer?.trainer ?? null,
        dict_size: sae.config.dictSize,
        d_in: sae.config.dIn,
        config_hash: sae.config.configHash,
        step: sae.config.step,
      },
      lm: { dir: path.resolve(sae.lmDir), name: sae.lmMeta.name, config_hash: sae.lmConfigHash, origin: x.lmOrigin, metrics: sae.lmMeta.metrics ?? null },
      layer: sae.layer,
      site: sae.site,
      dataset: { dir: path.resolve(data.dir), name: data.dataset.manifest.name, game: data.game, manifest_sha256: data.manifestSha256 },
    },
  };
}
