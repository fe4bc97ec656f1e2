/**
 * "Some result changed": one LISTEN connection on channel `saeboard_results` (migration 0011's
 * triggers notify it at every commit that wrote a result table) turned into a generation number.
 * Whoever holds something derived from results (the API's response cache) remembers the
 * generation it was made at and trusts it only while the generation is unchanged and the feed is
 * live. While the connection is down nothing is trusted (`live` is false); it reconnects with
 * backoff and bumps the generation once it listens again, since anything may have changed
 * in between.
 */
import pg from 'pg';
import { log } from '../log.js';

export const RESULTS_CHANNEL = 'saeboard_results';

export interface ResultsFeed {
  /** Bumped at every notification, and on every loss or regain of the connection. */
  readonly generation: number;
  /** True while the LISTEN connection is up: only then do notifications arrive. */
  readonly live: boolean;
  /**
   * Called (synchronously) after every bump, with the table a notification names, or null when
   * the connection was lost or regained (anything may have changed).
   */
  onChange(listener: (table: string | null) => void): void;
  /** The backend pid of the LISTEN connection (tests terminate it to see recovery). */
  readonly backendPid: number | null;
  close(): Promise<void>;
}

const BACKOFF_MS = { first: 250, max: 10_000 };

/** Starts listening; resolves once the first LISTEN is in place (or the first try failed: then it keeps trying). */
export async function startResultsFeed(pool: pg.Pool): Promise<ResultsFeed> {
  let generation = 0;
  let live = false;
  let closed = false;
  let client: pg.Client | null = null;
  let backendPid: number | null = null;
  let retry: NodeJS.Timeout | null = null;
  let backoff = BACKOFF_MS.first;
  const listeners: ((table: string | null) => void)[] = [];

  const bump = (table: string | null) => {
    generation++;
    for (const l of listeners) l(table);
  };

  const lost = (c: pg.Client, reason: string) => {
    if (client !== c) return;
    client = null;
    backendPid = null;
    live = false;
    bump(null);
    c.removeAllListeners('notification');
    c.end().catch(() => {});
    if (closed) return;
    log.warn({ reason, retryInMs: backoff }, 'results feed lost; API answers are not cached until it is back');
    retry = setTimeout(connect, backoff);
    retry.unref();
    backoff = Math.min(BACKOFF_MS.max, backoff * 2);
  };

  async function connect(): Promise<void> {
    retry = null;
    if (closed) return;
    // pool.options carries the pool's connection settings; a Client ignores the pool-only ones.
    const c = new pg.Client(pool.options);
    client = c;
    c.on('error', (err) => lost(c, err.message));
    c.on('end', () => lost(c, 'connection ended'));
    c.on('notification', (msg) => {
      if (msg.channel === RESULTS_CHANNEL) bump(msg.payload || null);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${RESULTS_CHANNEL}`);
      const { rows } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      if (client !== c) return; // lost while connecting
      backendPid = rows[0].pid;
      live = true;
      backoff = BACKOFF_MS.first;
      bump(null); // whatever happened while nobody listened
    } catch (err) {
      lost(c, (err as Error).message);
    }
  }

  await connect();
  return {
    get generation() {
      return generation;
    },
    get live() {
      return live;
    },
    get backendPid() {
      return backendPid;
    },
    onChange(listener) {
      listeners.push(listener);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      live = false;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => {});
        await c.end().catch(() => {});
      }
    },
  };
}
