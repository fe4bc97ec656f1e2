import pg from 'pg';
import { SaeboardError } from '../errors.js';
import { log } from '../log.js';
import { startEmbedded, type EmbeddedServer } from './embedded.js';
import { migrate } from './migrate.js';

export type Queryable = pg.Pool | pg.PoolClient | pg.Client;

// Postgres bigint (int8) and numeric come back as strings by default; ids and counts here fit
// in a double, and code everywhere expects numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

export function createPool(url: string, opts: { max?: number; statementTimeoutMs?: number; settings?: Record<string, string>; jit?: boolean } = {}): pg.Pool {
  const settings = Object.entries(opts.settings ?? {});
  for (const [k, v] of settings) if (!/^[a-z_]+\.[a-z_]+$/.test(k) || !/^[\w.:-]*$/.test(v)) throw new RangeError(`bad session setting ${k}=${v}`);
  if (opts.jit === false) settings.push(['jit', 'off']);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    idleTimeoutMillis: 30_000,
    // Sent with each connection's startup packet, so every statement on it is bounded (0 = none).
    ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
    // Custom settings of every session (e.g. saeboard.job_id, read by column defaults: 0009).
    ...(settings.length ? { options: settings.map(([k, v]) => `-c ${k}=${v}`).join(' ') } : {}),
  });
  // An idle client may be terminated by the server (shutdown, restart); without this handler the
  // 'error' event would crash the process.
  pool.on('error', (err: Error & { code?: string }) => {
    // 57P01: the server is shutting down (e.g. the embedded server stopping with us) — expected.
    if (err.code === '57P01') log.debug({ err: err.message }, 'database connection closed by the server');
    else log.warn({ err: err.message }, 'idle database client error');
  });
  return pool;
}

/**
 * The API's pool: every statement bounded by statement_timeout, and no JIT compilation. API
 * statements are short index walks, but a few (the board properties ordered by best F1: one index
 * probe per property) are costed above jit_above_cost, and compiling them took 30+ ms of a 100 ms
 * answer at 1,000 SAEs, on every request (bench/api-scale).
 */
export function createApiPool(url: string, opts: { max?: number; statementTimeoutMs?: number } = {}): pg.Pool {
  return createPool(url, { max: opts.max, statementTimeoutMs: opts.statementTimeoutMs, jit: false });
}

export interface Database {
  url: string;
  pool: pg.Pool;
  /** Present when the embedded server is in use. */
  embedded: EmbeddedServer | null;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Connection URL; default DATABASE_URL, else the embedded server. */
  url?: string;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  poolSize?: number;
}

/** Redact the password of a connection URL for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

/**
 * Connect to DATABASE_URL (or `opts.url`), or start the embedded Postgres when neither is given.
 * Migrations are applied unless `migrate: false`.
 */
export async function openDatabase(opts: OpenOptions = {}): Promise<Database> {
  const explicit = opts.url ?? process.env.DATABASE_URL;
  const embedded = explicit ? null : await startEmbedded();
  const url = explicit ?? embedded!.url;
  const pool = createPool(url, { max: opts.poolSize });
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    await embedded?.stop().catch(() => {});
    throw new SaeboardError('UNAVAILABLE', `cannot connect to ${redactUrl(url)}: ${(err as Error).message}`);
  }
  if (opts.migrate !== false) {
    try {
      await migrate(pool);
    } catch (err) {
      await pool.end().catch(() => {});
      await embedded?.stop().catch(() => {});
      throw err;
    }
  }
  let closed = false;
  return {
    url,
    pool,
    embedded,
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
      // the last saeboard process using the embedded server stops it (src/db/embedded.ts)
      await embedded?.stop();
    },
  };
}

/**
 * Run `fn` inside one transaction on a dedicated client: COMMIT when it resolves, ROLLBACK when it
 * throws, so a failed ingest leaves nothing behind.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
