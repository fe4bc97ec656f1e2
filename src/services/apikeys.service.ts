/**
 * API keys: `sbk_` + 43 base64url characters (256 random bits). Postgres keeps only the SHA-256 of
 * the token; the token is returned once, at creation. A token that is malformed, unknown or revoked
 * authenticates nobody.
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { ConflictError, NotFoundError, UserInputError } from '../errors.js';
import { findLiveApiKeyByHash, insertApiKey, listApiKeys, revokeApiKey, touchApiKey, type ApiKeyRow } from '../db/repos/apikeys.js';
import { log } from '../log.js';

export const TOKEN_PREFIX = 'sbk_';
const TOKEN_RE = /^sbk_[A-Za-z0-9_-]{43}$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}$/;
/** Characters of the token kept in clear, enough to tell keys apart in a list. */
const SHOWN_PREFIX = TOKEN_PREFIX.length + 6;

export interface ApiKey {
  id: number;
  name: string;
  /** The token's first characters, e.g. "sbk_Ab12Cd" (never the whole token). */
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function toKey(row: ApiKeyRow): ApiKey {
  return { id: row.id, name: row.name, prefix: row.token_prefix, createdAt: row.created_at, lastUsedAt: row.last_used_at, revokedAt: row.revoked_at };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Create a key; the token is in the result and nowhere else. */
export async function createApiKey(pool: pg.Pool, name: string): Promise<{ key: ApiKey; token: string }> {
  if (!NAME_RE.test(name) || /^\d+$/.test(name)) {
    throw new UserInputError(`API key name "${name}" must be 1-64 characters: letters, digits and . _ @ : - (not first), not only digits`);
  }
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const row = await insertApiKey(pool, { name, tokenPrefix: token.slice(0, SHOWN_PREFIX), tokenSha256: hashToken(token) });
  if (!row) throw new ConflictError(`an API key named "${name}" exists already; revoke it first or choose another name`);
  return { key: toKey(row), token };
}

const lastTouched = new Map<number, number>();

/** The live key a token belongs to, or null (malformed, unknown or revoked). */
export async function authenticate(pool: pg.Pool, token: string): Promise<ApiKey | null> {
  if (!TOKEN_RE.test(token)) return null;
  const row = await findLiveApiKeyByHash(pool, hashToken(token));
  if (!row) return null;
  // Best effort, off the request's path, at most once a minute per key and process: a failed
  // bookkeeping write must not fail the request, nor cost a statement per request.
  const now = Date.now();
  if ((lastTouched.get(row.id) ?? 0) < now - 60_000) {
    lastTouched.set(row.id, now);
    touchApiKey(pool, row.id).catch((err) => log.debug({ err: (err as Error).message }, 'could not record API key use'));
  }
  return toKey(row);
}

export async function listKeys(pool: pg.Pool, opts: { includeRevoked?: boolean } = {}): Promise<ApiKey[]> {
  return (await listApiKeys(pool, opts)).map(toKey);
}

/** Revoke by name or numeric id. */
export async function revokeKey(pool: pg.Pool, nameOrId: string): Promise<ApiKey> {
  const row = /^\d+$/.test(nameOrId) ? await revokeApiKey(pool, { id: Number(nameOrId) }) : await revokeApiKey(pool, { name: nameOrId });
  if (!row) throw new NotFoundError(`no live API key "${nameOrId}" (see \`saeboard apikey list --all\`)`);
  return toKey(row);
}
