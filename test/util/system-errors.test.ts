/**
 * userErrorFromSystem (src/errors.ts): every operating-system error a user's path or port can cause
 * becomes a UserInputError whose one line names the path/port and says what to do. The errors are
 * real ones, made by the system calls (as root, chmod cannot deny access: /sys and /dev/full can).
 */
import { spawnSync } from 'node:child_process';
import { promises as fs, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attachPath, userErrorFromSystem, UserInputError } from '../../src/errors.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { PROJECT_ROOT } from '../../src/version.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-syserr-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

function mapped(err: unknown): string {
  const u = userErrorFromSystem(err);
  expect(u, String(err)).toBeInstanceOf(UserInputError);
  expect(u!.message.split('\n')).toHaveLength(1);
  return u!.message;
}

/** Run a shell snippet in a private mount namespace (a read-only or tiny tmpfs), if the machine allows it. */
function inMountNamespace(script: string): { ok: boolean; out: string } {
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', script], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}
const canMount = inMountNamespace('d=$(mktemp -d) && mount -t tmpfs -o ro,size=64k none "$d" && umount "$d" && rmdir "$d"').ok;

describe('userErrorFromSystem', () => {
  const file = path.join(tmp, 'a-file');
  writeFileSync(file, 'x');

  it('ENOTDIR: a path under a regular file', async () => {
    const err = await caught(() => fs.writeFile(path.join(file, 'out.json'), '{}'));
    expect((err as NodeJS.ErrnoException).code).toBe('ENOTDIR');
    expect(mapped(err)).toBe(`${file}/out.json: a part of this path is a file, not a folder; choose another path`);
  });

  it('EEXIST: a file where a folder is needed, and an existing target', async () => {
    const mk = await caught(() => fs.mkdir(file));
    expect((mk as NodeJS.ErrnoException).code).toBe('EEXIST');
    expect(mapped(mk)).toBe(`${file}: is a file where a folder is needed; remove it or choose another path`);
    const excl = await caught(() => fs.writeFile(file, 'y', { flag: 'wx' }));
    expect(mapped(excl)).toBe(`${file}: already exists; remove it or choose another path`);
  });

  it('EISDIR: a folder where a file is needed', async () => {
    const err = await caught(() => fs.writeFile(tmp, 'x'));
    expect((err as NodeJS.ErrnoException).code).toBe('EISDIR');
    expect(mapped(err)).toBe(`${tmp}: is a folder where a file is needed; give a file path`);
  });

  it('ENOENT: a missing parent folder', async () => {
    const p = path.join(tmp, 'missing', 'x.json');
    const err = await caught(() => fs.writeFile(p, 'x'));
    expect(mapped(err)).toBe(`${p}: no such file or folder; check the path (a new file's or folder's parent folder must exist)`);
  });

  it('EACCES and EPERM: places even root cannot write (/sys)', async () => {
    const acc = await caught(() => fs.writeFile('/sys/kernel/saeboard-test', 'x'));
    expect((acc as NodeJS.ErrnoException).code).toBe('EACCES');
    expect(mapped(acc)).toMatch(/^\/sys\/kernel\/saeboard-test: permission denied; choose a path you can write to/);
    const perm = await caught(() => fs.mkdir('/sys/saeboard-test'));
    expect(['EPERM', 'EACCES']).toContain((perm as NodeJS.ErrnoException).code);
    expect(mapped(perm)).toMatch(/^\/sys\/saeboard-test: (operation not permitted|permission denied); choose a path you can write to/);
  });

  it('ENOSPC: a full device (/dev/full); writers name their target (attachPath)', async () => {
    const err = await caught(async () => {
      const h = await fs.open('/dev/full', 'w');
      try {
        await h.writeFile('x');
      } finally {
        await h.close();
      }
    });
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(mapped(attachPath(err, path.join(tmp, 'results.json')))).toBe(`${tmp}/results.json: no space left on the device; free some space or write somewhere else`);
  });

  it('temp names of the atomic writers are shown as the target the user named', async () => {
    const err = await caught(() => writeFileAtomic(path.join(file, 'sub', 'r.json'), 'x'));
    expect(mapped(err)).toMatch(new RegExp(`^${file}/sub(/r\\.json)?: a part of this path is a file`));
    const e = Object.assign(new Error('x'), { code: 'ENOSPC', syscall: 'write', path: '/data/.tmp-ds-1234-ab12cd34/shard-00000.safetensors' });
    expect(mapped(e)).toBe('/data/ds/shard-00000.safetensors: no space left on the device; free some space or write somewhere else');
    // the names that carry the owner's start time (src/util/atomic.ts), directories and files
    const named = (p: string) => mapped(Object.assign(new Error('x'), { code: 'ENOSPC', syscall: 'write', path: p }));
    expect(named('/data/.tmp-my-ds-1234-998877-ab12cd34/shard-00000.safetensors')).toMatch(/^\/data\/my-ds\/shard-00000\.safetensors: no space/);
    expect(named('/data/.r.json.1234.998877.ab12cd34.tmp')).toMatch(/^\/data\/r\.json: no space/);
  });

  it('EADDRINUSE: an occupied port; EADDRNOTAVAIL: a host that is not ours', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const second = net.createServer();
      const err = await new Promise<unknown>((resolve) => {
        second.once('error', resolve);
        second.listen(port, '127.0.0.1');
      });
      expect(mapped(err)).toBe(`port ${port} on 127.0.0.1 is already in use; stop the program that listens there, or choose another port (serve --port N, 0 = any free port)`);
    } finally {
      busy.close();
    }
    const other = net.createServer();
    const err = await new Promise<unknown>((resolve) => {
      other.once('error', resolve);
      other.listen(0, '192.0.2.1'); // TEST-NET-1: never an address of this machine
    });
    expect(mapped(err)).toBe('192.0.2.1: not an address of this machine; choose another host (serve --host, e.g. 127.0.0.1 or 0.0.0.0)');
  });

  it.skipIf(!canMount)('EROFS and ENOSPC for real: a read-only and a full tmpfs in a private mount namespace', () => {
    const script = path.join(tmp, 'write-twice.mts');
    writeFileSync(
      script,
      `import { writeFileSync } from 'node:fs';
       import { userErrorFromSystem, attachPath } from ${JSON.stringify(path.join(PROJECT_ROOT, 'src/errors.ts'))};
       for (const p of process.argv.slice(2)) {
         try { writeFileSync(p, Buffer.alloc(1 << 20)); console.log('wrote', p); }
         catch (e) { console.log((e as NodeJS.ErrnoException).code, userErrorFromSystem(attachPath(e, p))?.message); }
       }`,
    );
    const r = inMountNamespace(
      'ro=$(mktemp -d) && full=$(mktemp -d) && mount -t tmpfs -o ro,size=64k none "$ro" && mount -t tmpfs -o size=64k none "$full" && ' +
        `TSX_TSCONFIG_PATH='${path.join(PROJECT_ROOT, 'tsconfig.json')}' '${process.execPath}' --import '${import.meta.resolve('tsx')}' '${script}' "$ro/out.bin" "$full/out.bin"; ` +
        'rc=$?; umount "$ro" "$full"; rmdir "$ro" "$full"; exit $rc',
    );
    expect(r.ok, r.out).toBe(true);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^EROFS \/tmp\/\S+\/out\.bin: read-only file system; choose a path on a writable file system$/);
    expect(lines[1]).toMatch(/^ENOSPC \/tmp\/\S+\/out\.bin: no space left on the device; free some space or write somewhere else$/);
  });

  it('EACCES on listen is about the port, not a path', () => {
    // as root a low port can be bound, so this error is built as node builds it (net.Server listen)
    const e = Object.assign(new Error('listen EACCES: permission denied 127.0.0.1:80'), { code: 'EACCES', errno: -13, syscall: 'listen', address: '127.0.0.1', port: 80 });
    expect(mapped(e)).toBe('port 80 on 127.0.0.1: permission denied (ports below 1024 need privileges); choose another port (serve --port N)');
  });

  it('anything else is not a user error', () => {
    expect(userErrorFromSystem(new Error('boom'))).toBeNull();
    expect(userErrorFromSystem(Object.assign(new Error('x'), { code: 'ECONNRESET', syscall: 'read' }))).toBeNull();
    expect(userErrorFromSystem(Object.assign(new Error('x'), { code: 'EACCES' }))).toBeNull(); // not from a system call
  });
});
