import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveTempPaths, removeLiveTempsSync, sweepStaleTemps, writeDirAtomic, writeFileAtomic } from '../../src/util/atomic.js';
import { isProcessAlive, processStartTime, selfStartTime } from '../../src/util/proc.js';
import { canonicalJson, configHash } from '../../src/util/hash.js';

describe('atomic writes', () => {
  it('writeFileAtomic replaces content and leaves no temp file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'saeboard-atomic-'));
    const f = path.join(dir, 'a.json');
    await writeFileAtomic(f, 'one');
    await writeFileAtomic(f, 'two');
    expect(readFileSync(f, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('writeFileAtomic failing midway leaves the old file intact', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'saeboard-atomic-'));
    const f = path.join(dir, 'a.json');
    writeFileSync(f, 'old');
    // A data argument that throws while being written simulates a failed write.
    const bad = { get length() { throw new Error('disk full'); } } as unknown as string;
    await expect(writeFileAtomic(f, bad)).rejects.toThrow();
    expect(readFileSync(f, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('writeDirAtomic publishes only complete directories', async () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'saeboard-atomic-'));
    const target = path.join(parent, 'ds');
    await expect(
      writeDirAtomic(target, async (tmp) => {
        writeFileSync(path.join(tmp, 'part'), 'x');
        throw new Error('crash while building');
      }),
    ).rejects.toThrow('crash while building');
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
    await writeDirAtomic(target, async (tmp) => writeFileSync(path.join(tmp, 'manifest.json'), '{}'));
    expect(readdirSync(target)).toEqual(['manifest.json']);
    await expect(writeDirAtomic(target, async () => {})).rejects.toThrow(/already exists/);
    await writeDirAtomic(target, async (tmp) => writeFileSync(path.join(tmp, 'v2'), ''), { overwrite: true });
    expect(readdirSync(target)).toEqual(['v2']);
  });
});

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync('true');
  return r.pid!;
}

describe('temporaries left by interrupted writers', () => {
  it('knows a live process from a dead one, and from a reused pid', () => {
    expect(isProcessAlive(process.pid, selfStartTime())).toBe(true);
    expect(isProcessAlive(process.ppid, processStartTime(process.ppid) ?? '0')).toBe(true);
    expect(isProcessAlive(deadPid())).toBe(false);
    // the parent's pid with another start time: its writer was a process that is gone
    expect(isProcessAlive(process.ppid, String(Number(processStartTime(process.ppid)) + 1))).toBe(false);
    expect(isProcessAlive(0)).toBe(false);
  });

  it('the next write into a directory removes stale temporaries and keeps live ones', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'saeboard-stale-'));
    const dead = deadPid();
    const liveParent = `${process.ppid}-${processStartTime(process.ppid)}`;
    const stale = [`.tmp-data-${dead}-123-0badc0de`, `.a.json.${dead}.123.0badc0de.tmp`, `.tmp-data-${dead}-0badc0de` /* older naming */, `.tmp-data-${process.ppid}-1-0badc0de` /* pid reused */];
    const kept = [`.tmp-data-${liveParent}-0badc0de`, '.tmp-user-file', 'data-1-2-0badc0de', '.tmp-other-x-y-z'];
    for (const n of [...stale, ...kept]) {
      if (n.endsWith('.tmp')) writeFileSync(path.join(dir, n), 'x');
      else {
        mkdirSync(path.join(dir, n));
        writeFileSync(path.join(dir, n, 'shard-00000.safetensors'), '');
      }
    }
    await writeDirAtomic(path.join(dir, 'data'), async (tmp) => writeFileSync(path.join(tmp, 'manifest.json'), '{}'));
    expect(readdirSync(dir).sort()).toEqual([...kept, 'data'].sort());
    // a file write sweeps its directory too
    const sub = path.join(dir, 'sub');
    mkdirSync(sub);
    writeFileSync(path.join(sub, `.b.json.${dead}.9.deadbeef.tmp`), 'x');
    await writeFileAtomic(path.join(sub, 'b.json'), '{}');
    expect(readdirSync(sub)).toEqual(['b.json']);
  });

  it('a target moved aside by a writer killed mid-overwrite is put back', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'saeboard-stale-'));
    const dead = deadPid();
    // killed between rename(target, old) and rename(new, target): only the two temporaries remain
    mkdirSync(path.join(dir, `.tmp-ds-${dead}-7-12345678`));
    mkdirSync(path.join(dir, `.tmp-ds-${dead}-7-12345678.old`));
    writeFileSync(path.join(dir, `.tmp-ds-${dead}-7-12345678.old`, 'manifest.json'), 'v1');
    expect(await sweepStaleTemps(dir)).toHaveLength(1);
    expect(readdirSync(dir)).toEqual(['ds']);
    expect(readFileSync(path.join(dir, 'ds', 'manifest.json'), 'utf8')).toBe('v1');
  });

  it('removeLiveTempsSync (what the CLI runs on SIGINT/SIGTERM) removes a build in progress', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'saeboard-live-'));
    writeFileSync(path.join(dir, 'keep'), '');
    let seen: string[] = [];
    await expect(
      writeDirAtomic(path.join(dir, 'ds'), async (tmp) => {
        writeFileSync(path.join(tmp, 'shard-00000.safetensors'), 'x');
        seen = liveTempPaths();
        expect(removeLiveTempsSync()).toBe(1);
        expect(existsSync(tmp)).toBe(false);
        throw new Error('interrupted');
      }),
    ).rejects.toThrow('interrupted');
    expect(seen).toHaveLength(1);
    expect(path.basename(seen[0])).toMatch(new RegExp(`^\\.tmp-ds-${process.pid}-${selfStartTime()}-[0-9a-f]{8}$`));
    expect(readdirSync(dir)).toEqual(['keep']);
    expect(liveTempPaths()).toEqual([]);
  });
});

describe('config hashes', () => {
  it('ignore key order and undefined fields, but not values', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: undefined } })).toBe('{"a":{"d":[1,2]},"b":1}');
    expect(configHash({ lr: 3e-4, trainer: 'standard' })).toBe(configHash({ trainer: 'standard', lr: 3e-4 }));
    expect(configHash({ lr: 3e-4 })).not.toBe(configHash({ lr: 3e-5 }));
    expect(configHash({})).toMatch(/^[0-9a-f]{64}$/);
  });
});
