import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { attachPath } from '../errors.js';
import { log } from '../log.js';
import { isProcessAlive, selfStartTime } from './proc.js';

/**
 * Temporaries of the atomic writers are named after their owner (pid and process start time), so
 * that nothing is left behind however a command ends:
 * - an error: the writer removes its temporary before rethrowing;
 * - SIGINT/SIGTERM: the CLI's signal handler calls removeLiveTempsSync() before exiting;
 * - kill -9 or a power cut: the next atomic write into the same directory finds temporaries whose
 *   owner is gone and removes them (sweepStaleTemps), restoring a target that was moved aside.
 *
 * Names: `.tmp-<target>-<pid>-<start>-<hex8>` (directories; `.old` suffix for a replaced target
 * moved aside) and `.<target>.<pid>.<start>.<hex8>.tmp` (files).
 */
const DIR_TEMP = /^\.tmp-(.+)-(\d+)-(\d+)-[0-9a-f]{8}(\.old)?$/;
const FILE_TEMP = /^\.(.+)\.(\d+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;
/** Names written before the start time was part of them: the pid alone decides. */
const LEGACY_DIR_TEMP = /^\.tmp-(.+)-(\d+)-[0-9a-f]{8}(\.old)?$/;
const LEGACY_FILE_TEMP = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** This process's temporaries that exist now, each with how to undo it synchronously. */
const liveTemps = new Map<string, () => void>();
const sweptDirs = new Set<string>();

function ownerTag(): string {
  return `${process.pid}-${selfStartTime()}`;
}

function rmTreeSync(p: string): void {
  // A file open already queued in the thread pool may add an entry after the tree was listed (the
  // rmdir then fails with ENOTEMPTY; rmSync's own retries do not list it again): start over.
  for (let attempt = 1; ; attempt++) {
    try {
      rmSync(p, { recursive: true, force: true });
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (attempt >= 50 || (code !== 'ENOTEMPTY' && code !== 'EBUSY')) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

/**
 * Remove every temporary this process has in flight (and put back a target that an overwrite had
 * moved aside). Synchronous, for signal handlers and `exit` listeners; returns how many it undid.
 */
export function removeLiveTempsSync(): number {
  let n = 0;
  for (const [p, undo] of [...liveTemps]) {
    try {
      undo();
      n++;
    } catch {
      // best effort: the next write into this directory sweeps what is left
    }
    liveTemps.delete(p);
  }
  return n;
}

/** The temporaries this process has in flight (for tests and messages). */
export function liveTempPaths(): string[] {
  return [...liveTemps.keys()];
}

/**
 * Remove the atomic writers' temporaries in `dir` whose owning process is gone. A replaced target
 * moved aside (`….old`) by a writer killed before it put the new one in place is restored, so a
 * crash mid-overwrite loses nothing. Runs once per directory per process; returns what it removed.
 */
export async function sweepStaleTemps(dir: string): Promise<string[]> {
  const abs = path.resolve(dir);
  if (sweptDirs.has(abs)) return [];
  sweptDirs.add(abs);
  let names: string[];
  try {
    names = await fs.readdir(abs);
  } catch {
    return [];
  }
  const removed: string[] = [];
  // `.old` last: its new version (if any) is removed first, then the old one is put back
  names.sort((a, b) => Number(a.endsWith('.old')) - Number(b.endsWith('.old')));
  for (const name of names) {
    const m = DIR_TEMP.exec(name) ?? FILE_TEMP.exec(name);
    const legacy = m ? null : (LEGACY_DIR_TEMP.exec(name) ?? LEGACY_FILE_TEMP.exec(name));
    const hit = m ?? legacy;
    if (!hit) continue;
    const pid = Number(hit[2]);
    const start = m ? m[3] : '0';
    if (isProcessAlive(pid, start)) continue;
    const full = path.join(abs, name);
    try {
      const target = path.join(abs, hit[1]);
      if (name.endsWith('.old') && !existsSync(target)) {
        await fs.rename(full, target);
        log.warn({ target, from: full }, 'restored a directory that an interrupted overwrite had moved aside');
        continue;
      }
      await fs.rm(full, { recursive: true, force: true, maxRetries: 3 });
      removed.push(full);
    } catch (err) {
      log.warn({ path: full, err: (err as Error).message }, 'could not remove a stale temporary');
    }
  }
  if (removed.length) log.info({ dir: abs, removed: removed.map((p) => path.basename(p)) }, 'removed temporaries left by interrupted runs');
  return removed;
}

/**
 * Write a file so that readers see either the old content or the complete new content, never a
 * partial file: write to a sibling temp file, fsync, rename. On any failure (disk full included)
 * the temp file is removed and the target is untouched.
 */
export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  await sweepStaleTemps(dir);
  const tmp = path.join(dir, `.${path.basename(target)}.${ownerTag().replace('-', '.')}.${randomBytes(4).toString('hex')}.tmp`);
  liveTemps.set(tmp, () => rmSync(tmp, { force: true }));
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, 'w');
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, target);
  } catch (err) {
    if (handle) await handle.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw attachPath(err, target);
  } finally {
    liveTemps.delete(tmp);
  }
}

/**
 * Build a directory under a temp name next to `target` and rename it into place only when `build`
 * succeeds. An error or a signal leaves no half-written `target` and no temp directory; after a
 * kill -9 the temp directory is removed by the next write into the same parent. Refuses to
 * overwrite an existing target unless `overwrite` is set.
 */
export async function writeDirAtomic<T>(
  target: string,
  build: (tmpDir: string) => Promise<T>,
  opts: { overwrite?: boolean } = {},
): Promise<T> {
  const parent = path.dirname(path.resolve(target));
  await fs.mkdir(parent, { recursive: true });
  await sweepStaleTemps(parent);
  const exists = await fs.stat(target).then(
    () => true,
    () => false,
  );
  if (exists && !opts.overwrite) {
    const { ConflictError } = await import('../errors.js');
    throw new ConflictError(`${target} already exists (pass --force to overwrite)`);
  }
  const tmp = path.join(parent, `.tmp-${path.basename(target)}-${ownerTag()}-${randomBytes(4).toString('hex')}`);
  // registered before it exists: a signal during mkdir still removes it
  liveTemps.set(tmp, () => rmTreeSync(tmp));
  const old = `${tmp}.old`;
  try {
    await fs.mkdir(tmp);
    const result = await build(tmp);
    if (exists) {
      // until the new directory is in place, an interrupt puts the old one back
      liveTemps.set(old, () => {
        if (existsSync(target)) rmTreeSync(old);
        else renameSync(old, target);
      });
      await fs.rename(target, old);
      await fs.rename(tmp, target);
      liveTemps.delete(tmp);
      await fs.rm(old, { recursive: true, force: true });
      liveTemps.delete(old);
    } else {
      await fs.rename(tmp, target);
    }
    return result;
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => {});
    const restore = liveTemps.get(old);
    if (restore) {
      liveTemps.delete(old);
      try {
        restore();
      } catch {
        // left for sweepStaleTemps, which restores it on the next write here
      }
    }
    throw attachPath(err, target);
  } finally {
    liveTemps.delete(tmp);
  }
}
