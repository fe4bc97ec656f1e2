/** `saeboard eval` as a user runs it: exit codes, one-line errors, the summary, --json, --export. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/tensor/backend.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { makeLm, makeOthelloDataset, makeSae } from './fixtures.js';

const exec = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-eval-cli-'));
let dataset: string;
let lm: string;
let sae: string;

async function cli(args: string[]) {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'eval', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, SAEBOARD_LOG_LEVEL: 'warn', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  await initBackend();
  dataset = await makeOthelloDataset(path.join(tmp, 'data'), 12);
  lm = await makeLm(path.join(tmp, 'lm'), 'othello', 1);
  sae = await makeSae(path.join(tmp, 'sae'), { lmDir: lm, layer: 1 });
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('saeboard eval (CLI)', () => {
  it('--help documents the command', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const opt of ['--sae', '--dataset', '--bsp', '--export', '--no-db', '--f1-floor']) expect(r.stdout).toContain(opt);
  });

  it('evaluates without a database and exports one JSON file per SAE', async () => {
    const out = path.join(tmp, 'export');
    const r = await cli(['--sae', sae, '--dataset', dataset, '--no-db', '--export', out, '--max-sample-games', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res[0].families.map((f: { shortName: string }) => f.shortName)).toEqual(['board_state', 'valid_moves']);
    expect(res[0].saeCheckpointId).toBeNull();
    expect(readdirSync(out)).toHaveLength(1);
  });

  it('bad input: exit 1, one readable line, before touching the database', async () => {
    // DATABASE_URL points nowhere: reaching the database would be a different error
    const r = await cli(['--sae', sae, '--dataset', dataset, '--bsp', 'mine_yours', '--layer', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^saeboard: error: --bsp: BSP family "mine_yours" is not labelled in dataset/);
  });

  it('usage errors exit 2', async () => {
    const r = await cli(['--dataset', dataset]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sae/);
  });
});
