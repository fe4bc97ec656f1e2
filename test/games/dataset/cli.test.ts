import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../../src/games/dataset/index.js';
import { PROJECT_ROOT } from '../../../src/version.js';
import { createTestDatabase } from '../../helpers/db.js';

const exec = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function saeboard(args: string[], env: Record<string, string | undefined> = {}) {
  const fullEnv = { ...process.env, SAEBOARD_LOG_LEVEL: 'warn', DATABASE_URL: undefined, ...env } as NodeJS.ProcessEnv;
  for (const k of Object.keys(fullEnv)) if (fullEnv[k] === undefined) delete fullEnv[k];
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: PROJECT_ROOT,
      env: fullEnv,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('saeboard games (CLI)', () => {
  const out = path.join(tmp, 'othello');

  it('generate othello writes a dataset and info summarises and verifies it', async () => {
    const g = await saeboard(['games', 'generate', 'othello', '--games', '30', '--seed', '2', '--min-moves', '59', '--out', out]);
    expect(g.code, g.stderr).toBe(0);
    expect(g.stdout).toMatch(/^wrote .*othello: othello, 30 games \(train 24 \/ test 6\), 1770 labelled positions, families \[board_state, mine_yours, valid_moves\]/);
    const m = (await openDataset(out)).manifest;
    expect(m.seed).toBe(2);
    const info = await saeboard(['games', 'info', out, '--verify']);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toContain('game      othello; tokenizer othello-61');
    expect(info.stdout).toContain('board_state');
    expect(info.stderr).toMatch(/verified 1 shard\(s\).*sha256 OK/);
  });

  it('bad input: one readable line, exit code 1, nothing written', async () => {
    const missing = await saeboard(['games', 'info', path.join(tmp, 'missing')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toEqual([`saeboard: error: ${path.join(tmp, 'missing')}: no such dataset directory`]);

    const wrongFlag = await saeboard(['games', 'generate', 'othello', '--source', 'stockfish', '--out', path.join(tmp, 'x')]);
    expect(wrongFlag.code).toBe(1);
    expect(wrongFlag.stderr).toContain('--source applies to chess only, not othello');

    const game = await saeboard(['games', 'generate', 'go', '--out', path.join(tmp, 'x')]);
    expect(game.code).toBe(1);
    expect(game.stderr).toContain('unknown game "go"');

    const file = path.join(tmp, 'bad.txt');
    writeFileSync(file, 'f5 d6 c3 d3 c4\nf5 d6 c3 d3 zz\n');
    const bad = await saeboard(['games', 'import-othello', file, '--out', path.join(tmp, 'imp')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bad.txt line 2, move 5 ("zz"): not a square name');
    expect(existsSync(path.join(tmp, 'imp'))).toBe(false);

    const exists = await saeboard(['games', 'generate', 'othello', '--games', '3', '--out', out]);
    expect(exists.code).toBe(1);
    expect(exists.stderr).toContain('already exists (pass --force to overwrite)');
  });

  it('families lists shapes and denominators', async () => {
    const r = await saeboard(['games', 'families', 'othello']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/othello board_state\s+8×8×3\s+192 cells\s+denominator\s+192\s+reported/);
    expect(r.stdout).toMatch(/length_lines\s+8×8×48\s+3072 cells/);
  });

  it('register writes the dataset row into the database', async () => {
    const db = await createTestDatabase();
    try {
      const r = await saeboard(['games', 'register', out], { DATABASE_URL: db.url });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/registered dataset #\d+ "othello" \(othello, 30 games, 1770 positions; BSP catalogue: 8 families, 7808 properties\)/);
      const { rows } = await db.pool.query('SELECT name, n_games FROM datasets');
      expect(rows).toEqual([{ name: 'othello', n_games: 30 }]);
    } finally {
      await db.drop();
    }
  });
});
