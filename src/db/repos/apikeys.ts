import type { Queryable } from '../pool.js';

export interface ApiKeyRow {
  id: number;
  name: string;
  token_prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, name, token_prefix, created_at, last_used_at, revoked_at';

/** Insert a key; null when a live key already has this name. */
export async function insertApiKey(db: Queryable, key: { name: string; tokenPrefix: string; tokenSha256: string }): Promise<ApiKeyRow | null> {
  const { rows } = await db.query<ApiKeyRow>(
    `INSERT INTO api_keys (name, token_prefix, token_sha256) VALUES ($1, $2, $3)
     ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING
     RETURNING ${COLUMNS}`,
    [key.name, key.tokenPrefix, key.tokenSha256],
  );
  return rows[0] ?? null;
}

/** The live (not revoked) key with this token hash, if any. */
export async function findLiveApiKeyByHash(db: Queryable, tokenSha256: string): Promise<ApiKeyRow | null> {
  const { rows } = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE token_sha256 = $1 AND revoked_at IS NULL`, [tokenSha256]);
  return rows[0] ?? null;
}

/** Record use, at most once a minute per key (a write per request would cost more than the read). */
export async function touchApiKey(db: Queryable, id: number): Promise<void> {
  await db.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [id]);
}

export async function listApiKeys(db: Queryable, opts: { includeRevoked?: boolean } = {}): Promise<ApiKeyRow[]> {
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM api_keys ${opts.includeRevoked ? '' : 'WHERE revoked_at IS NULL'} ORDER BY created_at, id`,
  );
  return rows;
}

/** Revoke the live key with this name or id; null when there is none. */
export async function revokeApiKey(db: Queryable, nameOrId: { name: string } | { id: number }): Promise<ApiKeyRow | null> {
  const [where, value] = 'id' in nameOrId ? ['id = $1', nameOrId.id] : ['name = $1', nameOrId.name];
  const { rows } = await db.query<ApiKeyRow>(
    `UPDATE api_keys SET revoked_at = now() WHERE ${where} AND revoked_at IS NULL RETURNING ${COLUMNS}`,
    [value],
  );
  return rows[0] ?? null;
}
