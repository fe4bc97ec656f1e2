import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeDirAtomic, writeFileAtomic } from '../../src/util/atomic.js';
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

describe('config hashes', () => {
  it('ignore key order and undefined fields, but not values', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: undefined } })).toBe('{"a":{"d":[1,2]},"b":1}');
    expect(configHash({ lr: 3e-4, trainer: 'standard' })).toBe(configHash({ trainer: 'standard', lr: 3e-4 }));
    expect(configHash({ lr: 3e-4 })).not.toBe(configHash({ lr: 3e-5 }));
    expect(configHash({})).toMatch(/^[0-9a-f]{64}$/);
  });
});
