/**
 * What the server keeps across requests: rows that change far less often than they are read.
 *
 * The BSP catalogue (families, and board properties by readable name) kept in the server process.
 * Nearly every feature, leaderboard and SAE query names a property or a family, and looking it up
 * was one round trip of its own per request (a third of the statements of bench/api-scale's mix).
 *
 * Entries are trusted only while the results feed is live, and dropped at every notification
 * from bsp_families or board_properties (migration 0011 notifies every write; 0013's triggers
 * also rewrite board_properties.best_f1 when an evaluation lands, so cached rows never carry a
 * stale best F1) and whenever the feed reconnects. Only names that exist are kept, so a client
 * cannot grow the map beyond the catalogue; unknown names go to Postgres for suggestions.
 */
import type pg from 'pg';
import { findBoardPropertiesByName, listBspFamilies, type BoardPropertyRow, type BspFamilyRow } from '../db/repos/datasets.js';
import type { ResultsFeed } from '../db/resultsFeed.js';
import { checkpointsOfSaes, getSaesByIds, type SaeCheckpointRow, type SaeRow } from '../db/repos/sae.js';

const CATALOGUE_TABLES = new Set(['bsp_families', 'board_properties']);
/** More distinct names than any catalogue has (Othello + chess ≈ 9,000 properties, each with and without a game). */
const MAX_NAMES = 50_000;

export class CatalogueCache {
  private families: Promise<BspFamilyRow[]> | null = null;
  private byName = new Map<string, Promise<BoardPropertyRow[]>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly feed: ResultsFeed,
  ) {
    feed.onChange((table) => {
      if (table === null || CATALOGUE_TABLES.has(table)) this.clear();
    });
  }

  /** Every game's families (the order of listBspFamilies). */
  bspFamilies(): Promise<BspFamilyRow[]> {
    if (!this.feed.live) return listBspFamilies(this.pool);
    if (!this.families) {
      const p = listBspFamilies(this.pool);
      this.families = p;
      p.catch(() => {
        if (this.families === p) this.families = null;
      });
    }
    return this.families;
  }

  /** Board properties with this readable name (case-insensitive), of one game or any. */
  boardPropertiesNamed(name: string, game?: string | null): Promise<BoardPropertyRow[]> {
    if (!this.feed.live) return findBoardPropertiesByName(this.pool, name, game);
    const key = `${game ?? ''}\u0000${name.trim().toLowerCase()}`;
    let p = this.byName.get(key);
    if (!p) {
      if (this.byName.size >= MAX_NAMES) this.byName.clear();
      const map = this.byName;
      const lookup = findBoardPropertiesByName(this.pool, name, game);
      p = lookup;
      map.set(key, lookup);
      // Unknown names and failures are not kept. (An entry cleared while in flight went with its old map.)
      lookup.then(
        (rows) => void (rows.length === 0 && map.get(key) === lookup && map.delete(key)),
        () => void (map.get(key) === lookup && map.delete(key)),
      );
    }
    return p;
  }

  /** Drops everything (a catalogue write, or the feed lost or regained). */
  clear(): void {
    this.families = null;
    this.byName = new Map();
  }

  get size(): { names: number; families: boolean } {
    return { names: this.byName.size, families: this.families !== null };
  }
}

/** Most rows a RowCache holds before it starts over (a few MiB of SAE rows). */
const MAX_ROWS = 20_000;

/**
 * Values by id read through `load` (a batch read, as a DataLoader's), held while the results
 * feed is live and dropped at any notification from `tables` or a reconnect. Ids that `isEmpty`
 * (unknown ones) are not kept.
 */
export class RowCache<V> {
  private byId = new Map<number, Promise<V>>();

  constructor(
    private readonly feed: ResultsFeed,
    tables: readonly string[],
    private readonly load: (ids: readonly number[]) => Promise<V[]>,
    private readonly isEmpty: (v: V) => boolean,
  ) {
    feed.onChange((table) => {
      if (table === null || tables.includes(table)) this.byId = new Map();
    });
  }

  loadMany(ids: readonly number[]): Promise<V[]> {
    if (!this.feed.live) return this.load(ids);
    let map = this.byId;
    const missing = [...new Set(ids.filter((id) => !map.has(id)))];
    if (missing.length) {
      if (map.size + missing.length > MAX_ROWS) map = this.byId = new Map();
      const batch = this.load(missing);
      missing.forEach((id, i) => {
        const one = batch.then((values) => values[i]);
        map.set(id, one);
        one.then(
          (v) => void (this.isEmpty(v) && map.get(id) === one && map.delete(id)),
          () => void (map.get(id) === one && map.delete(id)),
        );
      });
    }
    return Promise.all(ids.map((id) => map.get(id)!));
  }

  get size(): number {
    return this.byId.size;
  }
}

/** Everything the server process keeps across requests, each trusted only while `feed` is live. */
export interface ProcessCaches {
  catalogue: CatalogueCache;
  /** SAE rows by id (every feature page and leaderboard names its SAEs). */
  saes: RowCache<SaeRow | null>;
  /** Each SAE's checkpoints in step order (a feature query within one SAE starts from them). */
  checkpointsOfSae: RowCache<SaeCheckpointRow[]>;
}

export function createProcessCaches(pool: pg.Pool, feed: ResultsFeed): ProcessCaches {
  return {
    catalogue: new CatalogueCache(pool, feed),
    saes: new RowCache(feed, ['saes'], (ids) => getSaesByIds(pool, ids), (row) => row === null),
    checkpointsOfSae: new RowCache(feed, ['sae_checkpoints'], (ids) => checkpointsOfSaes(pool, ids), (rows) => rows.length === 0),
  };
}
