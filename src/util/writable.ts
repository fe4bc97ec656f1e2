import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Check that `dir` is (or can become) a folder we can write to, before long work whose results go
 * there: create it, write and remove one probe file, and remove again what was created, so a
 * failure later leaves no empty folders behind. Operating-system errors are thrown as they are (the
 * CLI turns them into one line naming the path: src/errors.ts).
 */
export async function ensureWritableDir(dir: string): Promise<void> {
  const created = await fs.mkdir(dir, { recursive: true });
  try {
    const probe = path.join(dir, `.saeboard-write-probe-${process.pid}`);
    await fs.writeFile(probe, '');
    await fs.rm(probe, { force: true });
  } finally {
    if (created) await fs.rm(created, { recursive: true, force: true });
  }
}
