/**
 * SAE files → database: register a sweep directory's SAEs (saes) and their checkpoints
 * (sae_checkpoints) against the LM checkpoint, layer, site and dataset / activation set they were
 * trained on; store unsupervised metrics (metric_results) with their eval config and its hash.
 * Everything is read and checked before the first write; each registration is one transaction.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { finalDir, listCheckpoints, checkpointDir, exists } from '../sae/checkpoint.js';
import { readSaeConfig, WEIGHTS_FILE, type SaeDirConfig } from '../sae/storage.js';
import type { SweepSpec } from '../sae/sweepConfig.js';
import { withTransaction } from '../db/pool.js';
import { findDatasetIdByPath } from '../db/repos/lm.js';
import {
  findActivationSetIdByPath,
  findSaeCheckpointByPath,
  replaceUnsupervisedMetrics,
  upsertSae,
  upsertSaeCheckpoints,
  type MetricInput,
  type SaeCheckpointInput,
} from '../db/repos/sae.js';
import { UserInputError } from '../errors.js';
import { fileSha256 } from '../util/hash.js';
import { codeVersionString } from '../version.js';

interface Lineage {
  lmDir: string;
  layer: number;
  site: string;
}

function lineageOf(cfg: SaeDirConfig, where: string): Lineage {
  const p = (cfg.provenance ?? {}) as Record<string, unknown>;
  const lm = p.lm as { dir?: unknown } | string | undefined;
  const lmDir = typeof lm === 'string' ? lm : typeof lm?.dir === 'string' ? lm.dir : null;
  if (!lmDir || typeof p.layer !== 'number') {
    throw new UserInputError(
      `${where}: its config.json names no LM checkpoint and layer (provenance.lm / provenance.layer): SAEs trained on synthetic or in-memory data cannot be registered`,
    );
  }
  return { lmDir, layer: p.layer, site: typeof p.site === 'string' ? p.site : 'resid_post' };
}

async function lmCheckpointId(pool: pg.Pool, lmDir: string, where: string): Promise<number> {
  if (!(await exists(path.join(lmDir, 'config.json')))) throw new UserInputError(`${where}: the LM checkpoint ${lmDir} it was trained on is missing`);
  const { registerLmCheckpointDir } = await import('./lm.js');
  return (await registerLmCheckpointDir(pool, lmDir)).checkpointId;
}

export interface RegisterSweepResult {
  saes: number;
  checkpoints: number;
  saeIds: Record<string, number>;
}

/** Register (or update) every SAE of a sweep directory and all its kept checkpoints. */
export async function registerSweepDir(pool: pg.Pool, sweepDir: string): Promise<RegisterSweepResult> {
  const sweepFile = path.join(sweepDir, 'sweep.json');
  if (!(await exists(sweepFile))) throw new UserInputError(`${sweepDir}: not a sweep directory (no sweep.json)`);
  const sweep = JSON.parse(await fs.readFile(sweepFile, 'utf8')) as { spec: SweepSpec; source: Record<string, unknown> };
  const spec = sweep.spec;

  // read and check everything first
  interface Plan {
    name: string;
    dir: string;
    cfg: SaeDirConfig;
    status: 'training' | 'finished' | 'failed';
    ckpts: SaeCheckpointInput[];
  }
  const plans: Plan[] = [];
  for (const s of spec.saes) {
    const dir = path.resolve(sweepDir, s.name);
    if (!(await exists(dir))) continue; // not started yet
    const steps = await listCheckpoints(dir);
    const hasFinal = await exists(path.join(finalDir(dir), 'config.json'));
    const anyDir = hasFinal ? finalDir(dir) : steps.length ? checkpointDir(dir, steps[steps.length - 1]) : null;
    if (!anyDir) continue;
    const cfg = await readSaeConfig(anyDir);
    const ckpts: SaeCheckpointInput[] = [];
    for (const step of steps) {
      const c = await readSaeConfig(checkpointDir(dir, step));
      ckpts.push({ step, tokensSeen: c.tokensSeen ?? step * s.config.batchSize, isFinal: false, path: path.resolve(checkpointDir(dir, step)), weightsSha256: null });
    }
    if (hasFinal) {
      const f = await readSaeConfig(finalDir(dir));
      ckpts.push({
        step: f.step ?? s.config.steps,
        tokensSeen: f.tokensSeen ?? s.config.steps * s.config.batchSize,
        isFinal: true,
        path: path.resolve(finalDir(dir)),
        weightsSha256: await fileSha256(path.join(finalDir(dir), WEIGHTS_FILE)),
      });
    }
    const status = hasFinal ? 'finished' : (await exists(path.join(dir, 'failed.json'))) ? 'failed' : 'training';
    plans.push({ name: s.name, dir, cfg, status, ckpts });
  }
  if (!plans.length) return { saes: 0, checkpoints: 0, saeIds: {} };
  const lineage = lineageOf(plans[0].cfg, `SAE ${plans[0].dir}`);
  const lmCkptId = await lmCheckpointId(pool, lineage.lmDir, `sweep ${sweepDir}`);
  const src = sweep.source;
  const activationSetPath = src.type === 'activation-set' && typeof src.path === 'string' ? src.path : null;
  const datasetPath = src.type === 'lm' && typeof src.data === 'string' ? src.data.replace(/ \(.*\)$/, '') : null;

  return withTransaction(pool, async (client) => {
    const activationSetId = activationSetPath ? await findActivationSetIdByPath(client, path.resolve(activationSetPath)) : null;
    let datasetId = datasetPath ? await findDatasetIdByPath(client, path.resolve(datasetPath)) : null;
    if (datasetId === null && activationSetId !== null) {
      const { rows } = await client.query<{ dataset_id: number | null }>('SELECT dataset_id FROM activation_sets WHERE id = $1', [activationSetId]);
      datasetId = rows[0]?.dataset_id ?? null;
    }
    const saeIds: Record<string, number> = {};
    let checkpoints = 0;
    for (const p of plans) {
      const l = lineageOf(p.cfg, `SAE ${p.dir}`);
      if (l.lmDir !== lineage.lmDir || l.layer !== lineage.layer || l.site !== lineage.site) {
        throw new UserInputError(`SAE ${p.dir} was trained on a different LM/layer/site than the rest of sweep ${spec.name}`);
      }
      const trainer = p.cfg.trainer!;
      const row = await upsertSae(client, {
        name: `${spec.name}/${p.name}`,
        lmCheckpointId: lmCkptId,
        layer: l.layer,
        site: l.site,
        datasetId,
        activationSetId,
        trainer: trainer.trainer,
        dictionary: p.cfg.dictionary,
        dIn: p.cfg.dIn,
        dSae: p.cfg.dictSize,
        hyperparameters: trainer as unknown as Record<string, unknown>,
        configHash: p.cfg.identityHash ?? p.cfg.configHash!,
        trainerConfigHash: p.cfg.configHash,
        sweep: spec.name,
        path: p.dir,
        status: p.status,
        codeVersion: p.cfg.codeVersion,
      });
      saeIds[p.name] = row.id;
      checkpoints += (await upsertSaeCheckpoints(client, row.id, p.ckpts)).length;
    }
    return { saes: plans.length, checkpoints, saeIds };
  });
}

/**
 * The sae_checkpoints id of an SAE directory (a sweep's `final/` or `checkpoints/step_n/`),
 * registering its sweep when needed.
 */
export async function saeCheckpointIdForDir(pool: pg.Pool, dir: string): Promise<number> {
  const abs = path.resolve(dir);
  const found = await findSaeCheckpointByPath(pool, abs);
  if (found) return found.id;
  // <sweep>/<sae>/final  or  <sweep>/<sae>/checkpoints/step_n
  const up = path.basename(abs) === 'final' ? path.dirname(path.dirname(abs)) : path.dirname(path.dirname(path.dirname(abs)));
  if (await exists(path.join(up, 'sweep.json'))) {
    await registerSweepDir(pool, up);
    const again = await findSaeCheckpointByPath(pool, abs);
    if (again) return again.id;
  }
  throw new UserInputError(`${dir}: not a checkpoint of a registered sweep; register SAEs trained elsewhere with \`saeboard eval\` or \`saeboard sae import\` into a sweep`);
}

/** Store unsupervised metrics of an SAE checkpoint directory (replacing rows of the same eval config). */
export async function storeUnsupervisedMetrics(
  pool: pg.Pool,
  dir: string,
  metrics: MetricInput[],
  evalConfig: Record<string, unknown>,
  evalConfigHash: string,
): Promise<{ saeCheckpointId: number; rows: number }> {
  const id = await saeCheckpointIdForDir(pool, dir);
  const rows = await withTransaction(pool, (client) => replaceUnsupervisedMetrics(client, id, metrics, evalConfig, evalConfigHash, codeVersionString()));
  return { saeCheckpointId: id, rows };
}
