import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { attachPath } from '../errors.js';

/**
 * Write a file so that readers see either the old content or the complete new content, never a
 * partial file: write to a sibling temp file, fsync, rename. On any failure (disk full included)
 * the temp file is removed and the target is untouched.
 */
export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
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
  }
}

/**
 * Build a directory under a temp name next to `target` and rename it into place only when `build`
 * succeeds. A crash or error leaves no half-written `target` (only a `.tmp-*` sibling that the next
 * attempt ignores). Refuses to overwrite an existing target unless `overwrite` is set.
 */
export async function writeDirAtomic<T>(
  target: string,
  build: (tmpDir: string) => Promise<T>,
  opts: { overwrite?: boolean } = {},
): Promise<T> {
  const parent = path.dirname(path.resolve(target));
  await fs.mkdir(parent, { recursive: true });
  const exists = await fs.stat(target).then(
    () => true,
    () => false,
  );
  if (exists && !opts.overwrite) {
    const { ConflictError } = await import('../errors.js');
    throw new ConflictError(`${target} already exists (pass --force to overwrite)`);
  }
  const tmp = path.join(parent, `.tmp-${path.basename(target)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(tmp);
  try {
    const result = await build(tmp);
    if (exists) {
      const old = `${tmp}.old`;
      await fs.rename(target, old);
      await fs.rename(tmp, target);
      await fs.rm(old, { recursive: true, force: true });
    } else {
      await fs.rename(tmp, target);
    }
    return result;
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw attachPath(err, target);
  }
}
