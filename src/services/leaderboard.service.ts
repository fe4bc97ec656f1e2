import type pg from 'pg';
import { UserInputError } from '../errors.js';
import { DEFAULT_PROBE_FAMILY } from '../lm/probe-data.js';
import { bestProbe, type ProbeResultRow } from '../db/repos/lm.js';
import { leaderboardRows } from '../db/repos/sae.js';
import type { BspFamilyRow } from '../db/repos/datasets.js';
import type { Loaders } from './loaders.js';
import { toProbeResult, type ProbeResultRecord } from './records.js';
import { resolveFamily } from './refs.js';

export interface LeaderboardEntryRecord {
  rank: number;
  saeId: number;
  saeCheckpointId: number;
  trainer: string;
  lmModelId: number;
  lmOrigin: string;
  value: number;
  l0: number | null;
  evalConfigHash: string;
}

export interface LeaderboardRecord {
  game: string;
  layer: number | null;
  metric: string;
  family: string | null;
  /** SAEs on trained (or imported) LMs, best first. */
  entries: LeaderboardEntryRecord[];
  /** SAEs on random-init LMs: the floor the paper compares against. */
  randomInit: LeaderboardEntryRecord[];
  /** The family whose best probe is the ceiling (`leaderboardProbe` reads it only when a client asks). */
  probeFamily: BspFamilyRow | null;
}

const SUPERVISED = new Set(['coverage', 'reconstruction']);
/** Metrics where the best SAE has the lowest value (the analyses' absorption and splitting). */
export const LOWER_IS_BETTER = new Set(['absorption', 'absorbed_fraction', 'splitting']);
const MAX_ENTRIES = 1000;

/** The best linear probe of the family at that layer; board-state families fall back to the game's board-state probe (mine/yours/empty, pieces). */
async function ceilingProbe(pool: pg.Pool, game: string, family: BspFamilyRow, layer: number | null): Promise<ProbeResultRow | null> {
  const boardProbe = DEFAULT_PROBE_FAMILY[game as 'othello' | 'chess'];
  return bestProbe(pool, { game, family: family.short_name, layer, fallbackFamily: family.family_group === 'board_state' ? boardProbe : null });
}

export async function leaderboard(
  pool: pg.Pool,
  loaders: Loaders,
  q: { game: string; layer?: number | null; metric: string; family?: string | null; evalConfigHash?: string | null; first?: number | null },
): Promise<LeaderboardRecord> {
  const first = q.first ?? 100;
  if (!Number.isInteger(first) || first < 1 || first > MAX_ENTRIES) throw new UserInputError(`first must be an integer from 1 to ${MAX_ENTRIES}`);
  if (SUPERVISED.has(q.metric) && !q.family) throw new UserInputError(`metric ${q.metric} is per board-property family: give family (e.g. "board_state")`);
  const family = q.family ? await resolveFamily(loaders, q.family, q.game) : null;
  const rows = await leaderboardRows(pool, {
    game: q.game,
    layer: q.layer ?? null,
    metric: q.metric,
    family: family?.family ?? '',
    evalConfigHash: q.evalConfigHash ?? null,
    limit: first, // per list: trained and random-init
    lowerIsBetter: LOWER_IS_BETTER.has(q.metric),
  });
  const toEntry = (r: (typeof rows)[number], rank: number): LeaderboardEntryRecord => ({
    rank,
    saeId: r.sae_id,
    saeCheckpointId: r.sae_checkpoint_id,
    trainer: r.trainer,
    lmModelId: r.lm_model_id,
    lmOrigin: r.lm_origin,
    value: r.value,
    l0: r.l0,
    evalConfigHash: r.eval_config_hash,
  });
  const trained = rows.filter((r) => r.lm_origin !== 'random-init').slice(0, first);
  const random = rows.filter((r) => r.lm_origin === 'random-init').slice(0, first);
  return {
    game: q.game,
    layer: q.layer ?? null,
    metric: q.metric,
    family: family?.short_name ?? null,
    entries: trained.map((r, i) => toEntry(r, i + 1)),
    randomInit: random.map((r, i) => toEntry(r, i + 1)),
    probeFamily: family,
  };
}

/** The best linear probe of the leaderboard's family on a trained LM at its layer: the ceiling. */
export async function leaderboardProbe(pool: pg.Pool, board: LeaderboardRecord): Promise<ProbeResultRecord | null> {
  if (!board.probeFamily) return null;
  const row = await ceilingProbe(pool, board.game, board.probeFamily, board.layer);
  return row ? toProbeResult(row) : null;
}
