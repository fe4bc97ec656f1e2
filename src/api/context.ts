import type pg from 'pg';
import { createLoaders, type Loaders } from '../services/loaders.js';
import type { ProcessCaches } from '../services/catalogue.js';
import type { ApiKey } from '../services/apikeys.service.js';
import { clientError } from './errors.js';

export interface Context {
  pool: pg.Pool;
  loaders: Loaders;
  requestId: string;
  /** The API key the request was made with (Authorization: Bearer / x-api-key), or null. */
  apiKey: ApiKey | null;
  /**
   * Per-request memo: the first call for a key runs `fn`, later calls (aliases of the same field,
   * say) share its promise, so `{ a: health b: health }` asks the database once.
   */
  once<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Filled in as the answer goes out: whether it carries no errors (the response cache keeps only those). */
  outcome?: { withoutErrors: boolean };
}

export function createContext(pool: pg.Pool, requestId: string, opts: { apiKey?: ApiKey | null; caches?: ProcessCaches | null } = {}): Context {
  const memo = new Map<string, Promise<unknown>>();
  return {
    pool,
    loaders: createLoaders(pool, opts.caches ?? null),
    requestId,
    apiKey: opts.apiKey ?? null,
    once<T>(key: string, fn: () => Promise<T>): Promise<T> {
      let p = memo.get(key) as Promise<T> | undefined;
      if (!p) memo.set(key, (p = fn()));
      return p;
    },
  };
}

/** The caller's API key; UNAUTHENTICATED (HTTP 401) without one. Mutations call this first. */
export function requireKey(ctx: Context): ApiKey {
  if (!ctx.apiKey) {
    throw clientError('UNAUTHENTICATED', 'This needs an API key: send `Authorization: Bearer <token>` (create one with `saeboard apikey create --name NAME`).', 401, {
      'www-authenticate': 'Bearer realm="saeboard"',
    });
  }
  return ctx.apiKey;
}
