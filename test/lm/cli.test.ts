import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { buildProgram } from '../../src/cli/main.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { makeOthelloDataset } from './helpers.js';

const exec = promisify(execFile);

async function runCli(args: string[], extraEnv: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...extraEnv, SAEBOARD_LOG_LEVEL: 'warn' },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// These run the real CLI (a child process each), with tiny models and datasets.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lm-cli-'));
const FIX = path.join(import.meta.dirname, '..', 'fixtures', 'lm');
const data = path.join(tmp, 'othello');
const env = { DATABASE_URL: '' };

beforeAll(async () => {
  await makeOthelloDataset(data, { games: 24, seed: 9, families: 'mine_yours', minMoves: 59 });
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('saeboard lm', () => {
  it('has help text on every command and option', async () => {
    const lm = (await buildProgram()).commands.find((c) => c.name() === 'lm')!;
    expect(lm.commands.map((c) => c.name())).toEqual(['import', 'init', 'train', 'eval', 'activations', 'probe', 'info']);
    for (const cmd of lm.commands) {
      expect(cmd.description(), cmd.name()).not.toBe('');
      expect(cmd.helpInformation()).toContain(`Usage: saeboard lm ${cmd.name()}`);
      for (const o of cmd.options) expect(o.description, `${cmd.name()} ${o.flags}`).not.toBe('');
    }
  });

  it('imports a nanoGPT checkpoint and refuses a broken one with exit 1 and one line', async () => {
    const out = path.join(tmp, 'imported');
    const ok = await runCli(['lm', 'import', path.join(FIX, 'nanogpt-bias.pt'), '--out', out, '--game', 'chess', '--no-register'], env);
    // vocab 11 is neither game's: --game chess is refused with a clear message
    expect(ok.code).toBe(1);
    expect(ok.stderr).toMatch(/vocabulary of 11 tokens but chess's tokenizer "chess-char-32" has 32/);
    expect(existsSync(out)).toBe(false);
    const bad = await runCli(['lm', 'import', path.join(FIX, 'expected.json'), '--out', out, '--no-register'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('trains, resumes, evaluates, collects activations and probes, end to end', async () => {
    const run = path.join(tmp, 'run');
    const train = ['lm', 'train', '--game', 'othello', '--dataset', data, '--out', run, '--layers', '2', '--d-model', '16', '--heads', '2',
      '--batch-size', '4', '--warmup', '2', '--eval-interval', '3', '--eval-rows', '4', '--checkpoint-interval', '3', '--no-register', '--no-progress'];
    const r1 = await runCli([...train, '--steps', '3'], env);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stdout).toMatch(/finished at step 3/);
    // a changed schedule cannot resume silently
    const r2 = await runCli([...train, '--steps', '6', '--lr', '0.01'], env);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/option "lr" was 0\.001, now 0\.01/);

    const ev = await runCli(['lm', 'eval', run, '--dataset', data, '--games', '3', '--loss-games', '3', '--json', '--no-register'], env);
    expect(ev.code, ev.stderr).toBe(0);
    const res = JSON.parse(ev.stdout) as { legalMoveRate: number; heldOutLoss: number; legalMoves: { predictions: number } };
    expect(res.legalMoves.predictions).toBeGreaterThan(100);
    expect(res.heldOutLoss).toBeGreaterThan(3); // 3 steps: near ln 61

    const acts = path.join(tmp, 'acts');
    const a = await runCli(['lm', 'activations', '--model', run, '--layer', '1', '--dataset', data, '--split', 'test', '--out', acts, '--dtype', 'float16', '--no-register', '--no-progress'], env);
    expect(a.code, a.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(acts, 'manifest.json'), 'utf8')) as { count: number; d: number; dtype: string };
    expect(manifest).toMatchObject({ count: 6 * 59, d: 16, dtype: 'float16' });
    const badLayer = await runCli(['lm', 'activations', '--model', run, '--layer', '5', '--dataset', data, '--out', path.join(tmp, 'x'), '--no-register'], env);
    expect(badLayer.code).toBe(1);
    expect(badLayer.stderr).toMatch(/layer 5 does not exist: the model has 2 blocks/);

    const p = await runCli(['lm', 'probe', '--model', run, '--dataset', data, '--layers', 'all', '--max-epochs', '1', '--max-train', '200', '--max-test', '100', '--no-register', '--no-progress'], env);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^layer\s+family\s+kind\s+test acc/m);
    expect(p.stdout).toMatch(/^0\s+mine_yours\s+softmax/m);
    expect(p.stdout).toMatch(/^1\s+mine_yours\s+softmax/m);

    // continued training starts from the run's weights and architecture
    const run2 = path.join(tmp, 'run2');
    const c = await runCli(['lm', 'train', '--game', 'othello', '--dataset', data, '--out', run2, '--init-from', run, '--steps', '1', '--batch-size', '4',
      '--eval-rows', '4', '--seed', '3', '--no-register', '--no-progress'], env);
    expect(c.code, c.stderr).toBe(0);
    const info2 = JSON.parse((await runCli(['lm', 'info', run2, '--json'])).stdout) as { model: { dModel: number }; provenance: { initFrom: { step: number } } };
    expect(info2.model.dModel).toBe(16);
    expect(info2.provenance.initFrom.step).toBe(3);

    const twin = path.join(tmp, 'twin');
    const t = await runCli(['lm', 'init', '--like', run, '--seed', '5', '--out', twin, '--no-register'], env);
    expect(t.code, t.stderr).toBe(0);
    const info = await runCli(['lm', 'info', twin, '--json']);
    expect(JSON.parse(info.stdout)).toMatchObject({ game: 'othello', provenance: { kind: 'random-init', seed: 5, randomInitOf: 'run' }, model: { nLayer: 2, dModel: 16 } });
  }, 180_000); // seven CLI processes, each starting TensorFlow.js
});
