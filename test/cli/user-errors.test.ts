/**
 * Operating-system errors caused by the user's paths and ports are user errors: exit 1 and one line
 * that names the path or port and says what to do (never "internal error", exit 70).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/version.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const exec = promisify(execFile);
let tmp: string;
let file: string;
let db: TestDatabase;

async function saeboard(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, SAEBOARD_LOG_LEVEL: 'warn', DATABASE_URL: '', ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function oneLine(r: { code: number; stderr: string }): string {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).not.toContain('internal error');
  return lines[0];
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-user-errors-'));
  file = path.join(tmp, 'results.json');
  writeFileSync(file, '{}');
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('operating-system errors from user choices are one-line user errors (exit 1)', () => {
  it('an output folder under an existing file (ENOTDIR/EEXIST), with nothing left behind', async () => {
    const line = oneLine(await saeboard(['games', 'generate', 'othello', '--games', '3', '--out', path.join(file, 'ds'), '--no-register']));
    expect(line).toBe(`saeboard: error: ${file}: is a file where a folder is needed; remove it or choose another path`);
    const deeper = oneLine(await saeboard(['lm', 'init', '--like', 'othello-small', '--out', path.join(file, 'a', 'model'), '--no-register']));
    expect(deeper).toMatch(new RegExp(`^saeboard: error: ${file}/a(/model)?: a part of this path is a file, not a folder; choose another path$`));
    expect(readdirSync(tmp)).toEqual(['results.json']);
  }, 180_000);

  it('eval --export under an existing file fails before any work', async () => {
    const line = oneLine(await saeboard(['eval', '--sae', path.join(tmp, 'no-sae'), '--dataset', path.join(tmp, 'no-data'), '--no-db', '--export', path.join(file, 'out')]));
    expect(line).toBe(`saeboard: error: ${file}/out: a part of this path is a file, not a folder; choose another path`);
    const onFile = oneLine(await saeboard(['eval', '--sae', path.join(tmp, 'no-sae'), '--dataset', path.join(tmp, 'no-data'), '--no-db', '--export', file]));
    expect(onFile).toBe(`saeboard: error: ${file}: is a file where a folder is needed; remove it or choose another path`);
  }, 180_000);

  it('unwritable places (as root too): /sys (EACCES/EPERM), /proc (ENOENT)', async () => {
    const sys = oneLine(await saeboard(['games', 'generate', 'othello', '--games', '3', '--out', '/sys/kernel/saeboard-ds', '--no-register']));
    expect(sys).toMatch(/^saeboard: error: \/sys\/kernel\/saeboard-ds: (permission denied|operation not permitted); choose a path you can write to/);
    const proc = oneLine(await saeboard(['lm', 'init', '--like', 'othello-small', '--out', '/proc/saeboard-model', '--no-register']));
    expect(proc).toMatch(/^saeboard: error: \/proc\/saeboard-model: no such file or folder; check the path/);
    expect(existsSync('/sys/kernel/saeboard-ds')).toBe(false);
  }, 180_000);

  // a read-only and a full file system, for real: tmpfs mounts in a private mount namespace
  const canMount = spawnSync('unshare', ['-rm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o ro,size=64k none "$d" && umount "$d" && rmdir "$d"']).status === 0;
  it.skipIf(!canMount)('a read-only (EROFS) and a full (ENOSPC) file system: one line naming --out, nothing left behind', () => {
    const cli = `SAEBOARD_LOG_LEVEL=warn DATABASE_URL= '${process.execPath}' --import tsx '${path.join(PROJECT_ROOT, 'src/cli/main.ts')}' games generate othello --games 300 --no-register --no-progress --out`;
    const r = spawnSync(
      'unshare',
      [
        '-rm',
        'sh',
        '-c',
        'ro=$(mktemp -d) && full=$(mktemp -d) && mount -t tmpfs -o ro,size=64k none "$ro" && mount -t tmpfs -o size=64k none "$full" && ' +
          `{ ${cli} "$ro/ds"; echo "rc=$? left=$(ls -A "$ro")"; ${cli} "$full/ds"; echo "rc=$? left=$(ls -A "$full")"; }; umount "$ro" "$full"; rmdir "$ro" "$full"`,
      ],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.stdout.trim().split('\n')).toEqual(['rc=1 left=', 'rc=1 left=']);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^saeboard: error: \/tmp\/[^/]+\/ds: read-only file system; choose a path on a writable file system$/);
    expect(lines[1]).toMatch(/^saeboard: error: \/tmp\/[^/]+\/ds: no space left on the device; free some space or write somewhere else$/);
  }, 180_000);

  it('serve on a busy port names the port', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const line = oneLine(await saeboard(['serve', '--port', String(port), '--no-seed'], { DATABASE_URL: db.url }));
      expect(line).toBe(`saeboard: error: port ${port} on 127.0.0.1 is already in use; stop the program that listens there, or choose another port (serve --port N, 0 = any free port)`);
    } finally {
      busy.close();
    }
  }, 180_000);
});
