import { statSync } from 'node:fs';
import { sep } from 'node:path';

/**
 * Errors that carry a stable, client-visible code. They belong to no transport: the CLI prints
 * `message` on one line and exits non-zero; the GraphQL layer maps `code` to `extensions.code`.
 * Anything that is not a SaeboardError is an internal error, and its details never reach clients.
 */
export type ErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'UNAVAILABLE' | 'INTERNAL';

export class SaeboardError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The caller gave something wrong: a bad file, argument, config field, transcript... */
export class UserInputError extends SaeboardError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('BAD_USER_INPUT', message, details);
  }
}

export class NotFoundError extends SaeboardError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('NOT_FOUND', message, details);
  }
}

export class ConflictError extends SaeboardError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('CONFLICT', message, details);
  }
}

/** Right request, wrong moment: the server is busy or a dependency is down; retrying may work. */
export class UnavailableError extends SaeboardError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('UNAVAILABLE', message, details);
  }
}

export function isSaeboardError(err: unknown): err is SaeboardError {
  return err instanceof SaeboardError;
}

/** A message from elsewhere (JSON.parse quotes the input, newlines included) folded onto one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** One readable line for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] || err.name;
  if (err === undefined) return 'unknown error';
  return String(err).split('\n')[0];
}

/** Operating-system error codes that mean "the user pointed us at a place we cannot use". */
const SYSTEM_HINTS: Record<string, (where: string, err: SystemError) => string> = {
  EACCES: (w) => `${w}: permission denied; choose a path you can write to (or read, for an input), or fix its permissions`,
  EPERM: (w) => `${w}: operation not permitted; choose a path you can write to, or fix its permissions`,
  EROFS: (w) => `${w}: read-only file system; choose a path on a writable file system`,
  ENOSPC: (w) => `${w}: no space left on the device; free some space or write somewhere else`,
  EDQUOT: (w) => `${w}: disk quota exceeded; free some space or write somewhere else`,
  ENOTDIR: (w) => `${w}: a part of this path is a file, not a folder; choose another path`,
  EISDIR: (w) => `${w}: is a folder where a file is needed; give a file path`,
  EEXIST: (w, e) =>
    e.syscall === 'mkdir' && isFile(e.path)
      ? `${w}: is a file where a folder is needed; remove it or choose another path`
      : `${w}: already exists; remove it or choose another path`,
  ENOTEMPTY: (w) => `${w}: is a folder that is not empty; remove it or choose another path`,
  ENOENT: (w) => `${w}: no such file or folder; check the path (a new file's or folder's parent folder must exist)`,
  ENAMETOOLONG: (w) => `${w}: file name too long; choose a shorter path`,
  ELOOP: (w) => `${w}: too many symbolic links (a link loop?); choose another path`,
  EMFILE: () => `too many open files; raise the limit (ulimit -n) or close other programs`,
  EADDRINUSE: (w) => `${w} is already in use; stop the program that listens there, or choose another port (serve --port N, 0 = any free port)`,
  EADDRNOTAVAIL: (w) => `${w}: not an address of this machine; choose another host (serve --host, e.g. 127.0.0.1 or 0.0.0.0)`,
};

interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
  address?: string;
  port?: number;
}

function isFile(p: string | undefined): boolean {
  if (!p) return false;
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Temp names of the atomic writers (src/util/atomic.ts, dataset writers) mean nothing to the user:
 * name the target they stand for (`dir/.tmp-<name>-<pid>-<start>-<hex>[.old]`,
 * `dir/.<name>.<pid>.<start>.<hex>.tmp`, and the older names without the process start time).
 */
const TEMP_NAMES = [/^\.tmp-(.+)-\d+-\d+-[0-9a-f]{8}(?:\.old)?$/, /^\.(.+)\.\d+\.\d+\.[0-9a-f]{8}\.tmp$/, /^\.tmp-(.+)-\d+-[0-9a-f]+$/, /^\.(.+)\.\d+\.[0-9a-f]+\.tmp$/];

function userPath(p: string): string {
  return p
    .split(sep)
    .map((part) => TEMP_NAMES.map((re) => re.exec(part)).find(Boolean)?.[1] ?? part)
    .join(sep);
}

function asSystemError(err: unknown): SystemError | null {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code in SYSTEM_HINTS && (e as { syscall?: unknown }).syscall !== undefined) return e as SystemError;
  }
  return null;
}

/**
 * The one place that turns operating-system errors caused by the user's choices (an unwritable or
 * missing path, a file where a folder is needed, a full disk, a busy port) into a UserInputError
 * whose one line names the path or address and says what to do. Anything else: null (a bug).
 */
export function userErrorFromSystem(err: unknown): UserInputError | null {
  const e = asSystemError(err);
  if (!e) return null;
  let where: string;
  const portOf = () => (e.port !== undefined ? `port ${e.port}${e.address ? ` on ${e.address}` : ''}` : (e.address ?? 'the address'));
  if ((e.code === 'EACCES' || e.code === 'EPERM') && (e.syscall === 'listen' || e.syscall === 'bind')) {
    return new UserInputError(`${portOf()}: permission denied (ports below 1024 need privileges); choose another port (serve --port N)`, { systemCode: e.code, port: e.port });
  }
  if (e.code === 'EADDRINUSE' || e.code === 'EADDRNOTAVAIL') {
    where = portOf();
  } else {
    // rename/link/copy onto an existing target: the target is the user's path
    const p = (e.code === 'EEXIST' || e.code === 'ENOTEMPTY') && e.dest ? e.dest : e.path;
    where = p ? userPath(p) : e.syscall ?? 'a file';
  }
  return new UserInputError(SYSTEM_HINTS[e.code](where, e), { systemCode: e.code, syscall: e.syscall, path: e.path, address: e.address, port: e.port });
}

/**
 * Name the file an operating-system error is about when the system call did not (write and fsync
 * errors such as ENOSPC carry no path): the writers call this with their target before rethrowing.
 */
export function attachPath<E>(err: E, target: string): E {
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && (err as { path?: unknown }).path === undefined) {
    (err as { path?: string }).path = target;
  }
  return err;
}
