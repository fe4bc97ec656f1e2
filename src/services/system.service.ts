import type pg from 'pg';
import { backendInfo } from '../tensor/backend.js';
import { codeVersion } from '../version.js';

export interface VersionInfo {
  version: string;
  commit: string | null;
  backend: string;
  kernels: string;
  backendDetail: string | null;
  node: string;
}

export interface ServerStatus {
  ok: boolean;
  database: boolean;
  databaseLatencyMs: number;
  migrations: number;
  uptimeSeconds: number;
}

const startedAt = Date.now();

export function version(): VersionInfo {
  const { version: v, commit } = codeVersion();
  const b = backendInfo();
  return {
    version: v,
    commit,
    backend: b?.name ?? 'not initialised',
    kernels: b?.kernels ?? 'none',
    backendDetail: b?.detail ?? null,
    node: process.version,
  };
}

export async function status(pool: pg.Pool): Promise<ServerStatus> {
  const t0 = performance.now();
  try {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM saeboard_migrations`);
    return {
      ok: true,
      database: true,
      databaseLatencyMs: performance.now() - t0,
      migrations: rows[0].n,
      uptimeSeconds: (Date.now() - startedAt) / 1000,
    };
  } catch {
    return { ok: false, database: false, databaseLatencyMs: performance.now() - t0, migrations: 0, uptimeSeconds: (Date.now() - startedAt) / 1000 };
  }
}
