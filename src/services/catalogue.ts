/**
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
