/**
 * Every `saeboard` command, once, end to end, as a user runs it (a child process from source) on
 * tiny data against the test database. The command list comes from the CLI itself: a command added
 * without a run here fails the first test, so no command can break without a failing test.
 *
 * The fixtures are shared: one tiny Othello dataset, the shipped othello-small LM, one tiny
 * activation set, one tiny sweep; the stages run in order, independent commands of a stage at once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/version.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let tmp: string;
let db: TestDatabase;
const ran = new Set<string>();
// the commands run in the temp folder (not the checkout), so tsx is named by its resolved URL
const TSX = import.meta.resolve('tsx');

/** Run `saeboard …`; records which command was run (its words before the first option/argument). */
function saeboard(args: string[], opts: { timeoutMs?: number } = {}): Promise<Result> {
  ran.add(commandOf(args));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, path.join(PROJECT_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: tmp,
      env: { ...process.env, TSX_TSCONFIG_PATH: path.join(PROJECT_ROOT, 'tsconfig.json'), SAEBOARD_LOG_LEVEL: 'warn', DATABASE_URL: db.url, SAEBOARD_HOME: path.join(tmp, 'home') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const GROUPS = new Set(['games', 'lm', 'sae', 'jobs', 'apikey', 'db']);
function commandOf(args: string[]): string {
  return GROUPS.has(args[0]) ? `${args[0]} ${args[1]}` : args[0];
}

function ok(r: Result, what: string): void {
  expect(r.stderr.includes('saeboard: error') ? r.stderr : '', what).toBe('');
  expect(r.code, `${what}: ${r.stderr}`).toBe(0);
}

const p = (...parts: string[]) => path.join(tmp, ...parts);
// generous: the stages run several commands at once, and the two cores may be shared
const STAGE_TIMEOUT = 300_000;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-every-'));
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('every saeboard command, once, end to end', () => {
  it('stage 1: database, games, LM inspection (no inputs needed)', async () => {
    writeFileSync(p('games.txt'), 'f5 d6 c3 d3 c4 f4 c5 b3 c2\nf5 f6 e6 f4 e3\n');
    const [dbStop, migrate, status, gen, pgn, oth, fam, cat, perft, lmInfo, lmInit, lmImport, paper] = await Promise.all([
      saeboard(['db', 'stop']),
      saeboard(['migrate']),
      saeboard(['db:status']),
      saeboard(['games', 'generate', 'othello', '--games', '40', '--seed', '1', '--test-fraction', '0.5', '--out', p('data'), '--no-progress']),
      saeboard(['games', 'import-pgn', path.join(PROJECT_ROOT, 'test/fixtures/chess/lichess-sample.pgn'), '--out', p('pgn'), '--bsp', 'none', '--no-register', '--no-progress']),
      saeboard(['games', 'import-othello', p('games.txt'), '--out', p('oth'), '--bsp', 'none', '--no-register', '--no-progress']),
      saeboard(['games', 'families', 'othello']),
      saeboard(['games', 'catalogue', 'othello']),
      saeboard(['games', 'perft', '--depth', '3']),
      saeboard(['lm', 'info', 'othello-small']),
      saeboard(['lm', 'init', '--like', 'othello-small', '--seed', '7', '--out', p('lm-random'), '--no-register']),
      saeboard(['lm', 'import', path.join(PROJECT_ROOT, 'models/othello-small/model.safetensors'), '--out', p('lm-imported'), '--no-register']),
      saeboard(['sae', 'paper-sweep', '--game', 'othello', '--trainer', 'p_anneal', '--activations', p('acts')]),
    ]);
    ok(dbStop, 'db stop');
    expect(dbStop.stdout).toMatch(/^no embedded Postgres is running for /);
    ok(migrate, 'migrate');
    expect(migrate.stdout).toMatch(/up to date|applied/);
    ok(status, 'db:status');
    expect(status.stdout).toContain('up to date');
    ok(gen, 'games generate');
    ok(pgn, 'games import-pgn');
    ok(oth, 'games import-othello');
    ok(fam, 'games families');
    expect(fam.stdout).toContain('board_state');
    ok(cat, 'games catalogue');
    ok(perft, 'games perft');
    expect(perft.stdout).toContain('perft(3) = 56');
    ok(lmInfo, 'lm info');
    expect(lmInfo.stdout).toContain('othello');
    ok(lmInit, 'lm init');
    ok(lmImport, 'lm import');
    ok(paper, 'sae paper-sweep');
    expect(paper.stdout).toContain('initialSparsityPenalty');
  }, STAGE_TIMEOUT);

  it('stage 2: on the dataset (info, register, LM eval/activations/probe/train)', async () => {
    const [info, reg, lmEval, acts, probe, train] = await Promise.all([
      saeboard(['games', 'info', p('data'), '--verify']),
      saeboard(['games', 'register', p('data')]),
      saeboard(['lm', 'eval', 'othello-small', '--dataset', p('data'), '--games', '4']),
      saeboard(['lm', 'activations', '--model', 'othello-small', '--layer', '1', '--dataset', p('data'), '--out', p('acts'), '--no-progress']),
      saeboard(['lm', 'probe', '--model', 'othello-small', '--dataset', p('data'), '--layers', '1', '--max-train', '400', '--max-test', '200', '--max-epochs', '2', '--no-progress']),
      saeboard(['lm', 'train', '--game', 'othello', '--dataset', p('data'), '--out', p('lm-run'), '--layers', '1', '--heads', '2', '--d-model', '16', '--steps', '2', '--batch-size', '4', '--eval-interval', '2', '--eval-rows', '4', '--checkpoint-interval', '2', '--no-progress']),
    ]);
    ok(info, 'games info');
    expect(info.stdout).toContain('games     40');
    ok(reg, 'games register');
    ok(lmEval, 'lm eval');
    ok(acts, 'lm activations');
    ok(probe, 'lm probe');
    ok(train, 'lm train');
  }, STAGE_TIMEOUT);

  it('stage 3: SAE training on the activation set (train, sweep)', async () => {
    writeFileSync(
      p('sweep.yaml'),
      [
        'name: every-command',
        'batchSize: 64',
        'buffer: { contexts: 10 }',
        `source: { type: activations, path: ${JSON.stringify(p('acts'))} }`,
        'defaults: { steps: 6, warmupSteps: 1 }',
        'trainers:',
        '  - { trainer: standard, expansion: 1, l1Penalty: 0.05 }',
        '  - { trainer: top_k, expansion: 1, k: 8 }',
      ].join('\n'),
    );
    const [train, sweep] = await Promise.all([
      saeboard(['sae', 'train', '-t', 'gated', '--activations', p('acts'), '--out', p('sae-one'), '--steps', '4', '--batch-size', '64', '--set', 'expansion=1', '--set', 'l1Penalty=1', '--set', 'warmupSteps=1', '--no-progress', '--no-register']),
      saeboard(['sae', 'sweep', '--config', p('sweep.yaml'), '--out', p('sweep'), '--no-progress', '--no-register']),
    ]);
    ok(train, 'sae train');
    ok(sweep, 'sae sweep');
    expect(sweep.stdout).toMatch(/trainer1\s+top_k/);
  }, STAGE_TIMEOUT);

  it('stage 4: on the trained SAEs (register, info, export, import, metrics, eval)', async () => {
    const final = p('sweep', 'trainer0', 'final');
    const [reg, info, exp, metrics, evalRun] = await Promise.all([
      saeboard(['sae', 'register', p('sweep')]),
      saeboard(['sae', 'info', final]),
      saeboard(['sae', 'export', final, '--format', 'saelens', '--out', p('sae-saelens')]),
      saeboard(['sae', 'metrics', final, '--activations', p('acts'), '--tokens', '128', '--no-register']),
      saeboard(['eval', '--sae', final, '--dataset', p('data'), '--train-games', '10', '--test-games', '10', '--max-sample-games', '5', '--export', p('results')]),
    ]);
    ok(reg, 'sae register');
    expect(reg.stdout).toMatch(/registered 2 SAE\(s\)/);
    ok(info, 'sae info');
    expect(info.stdout).toMatch(/dictionary\s+relu\s+d_in 256/);
    ok(exp, 'sae export');
    ok(metrics, 'sae metrics');
    expect(metrics.stdout).toContain('FVE');
    ok(evalRun, 'eval');
    expect(evalRun.stdout).toMatch(/stored as sae_checkpoint \d+/);
    const imp = await saeboard(['sae', 'import', p('sae-saelens'), '--out', p('sae-imported'), '--lm', 'othello-small', '--layer', '1']);
    ok(imp, 'sae import');
    const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM sae_checkpoints');
    expect(Number(rows[0].n)).toBeGreaterThan(0);
  }, STAGE_TIMEOUT);

  it('serve: starts on a free port, answers GraphQL, stops cleanly on SIGTERM', async () => {
    ran.add('serve');
    const child = spawn(process.execPath, ['--import', TSX, path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'serve', '--port', '0'], {
      cwd: tmp,
      env: { ...process.env, TSX_TSCONFIG_PATH: path.join(PROJECT_ROOT, 'tsconfig.json'), SAEBOARD_LOG_LEVEL: 'warn', DATABASE_URL: db.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 180_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /GraphQL API at (\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ health }' }) });
    expect(((await res.json()) as { data: { health: unknown } }).data.health).toBeTruthy();
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  }, STAGE_TIMEOUT);

  it('the job queue: seed, jobs submit/list/show/cancel/retry, worker', async () => {
    const seed = await saeboard(['seed', '--size', 'tiny', '--force']); // serve (above) queued it once already
    ok(seed, 'seed');
    expect(seed.stdout).toMatch(/queued \d+ jobs/);
    const repro = await saeboard(['reproduce', '--game', 'othello', '--scale', 'tiny', '--detach']); // queued only; test/repro runs it
    ok(repro, 'reproduce');
    expect(repro.stdout).toMatch(/reproduce-tiny-othello: \d+ jobs/);
    writeFileSync(p('job.yaml'), `game: othello\ngames: 4\nminMoves: 59\nfamilies: board_state\nout: ${p('job-data')}\nname: every-command-job\n`);
    const submit = await saeboard(['jobs', 'submit', 'generate_dataset', '--config', p('job.yaml')]);
    ok(submit, 'jobs submit');
    const id = /#(\d+)/.exec(submit.stdout)![1];
    const bad = await saeboard(['jobs', 'submit', 'GENERATE_DATASET', '--config', p('job.yaml').replace('job.yaml', 'missing.yaml')]);
    expect(bad.code).toBe(1);
    const [list, show] = await Promise.all([saeboard(['jobs', 'list', '--status', 'queued']), saeboard(['jobs', 'show', id])]);
    ok(list, 'jobs list');
    expect(list.stdout).toMatch(/GENERATE_DATASET/);
    ok(show, 'jobs show');
    expect(show.stdout).toContain('every-command-job');
    // Cancel the small job and put it back; everything else queued (the seeds) is cancelled so the
    // worker below only runs the small job.
    ok(await saeboard(['jobs', 'cancel', id]), 'jobs cancel');
    await db.pool.query(`UPDATE jobs SET status = 'cancelled' WHERE id <> $1 AND status IN ('waiting', 'queued', 'running')`, [Number(id)]);
    const retry = await saeboard(['jobs', 'retry', id]);
    ok(retry, 'jobs retry');
    expect(retry.stdout).toContain(`#${id}`);
    // A worker process runs it, then stops cleanly on SIGTERM.
    ran.add('worker');
    const worker = spawn(process.execPath, ['--import', TSX, path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'worker'], {
      cwd: tmp,
      env: { ...process.env, TSX_TSCONFIG_PATH: path.join(PROJECT_ROOT, 'tsconfig.json'), SAEBOARD_LOG_LEVEL: 'warn', DATABASE_URL: db.url },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const t0 = Date.now();
    for (;;) {
      const { rows } = await db.pool.query<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [Number(id)]);
      if (rows[0].status === 'succeeded') break;
      if (Date.now() - t0 > 120_000) throw new Error(`job ${id} is ${rows[0].status}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    const code = await new Promise<number | null>((resolve) => {
      worker.on('exit', (c) => resolve(c));
      worker.kill('SIGTERM');
    });
    expect(code).toBe(0);
  }, STAGE_TIMEOUT);

  it('API keys: create (token printed once), list, revoke', async () => {
    const created = await saeboard(['apikey', 'create', '--name', 'every-command']);
    ok(created, 'apikey create');
    expect(created.stdout).toMatch(/sbk_[A-Za-z0-9_-]+/);
    const list = await saeboard(['apikey', 'list']);
    ok(list, 'apikey list');
    expect(list.stdout).toContain('every-command');
    expect(list.stdout).not.toMatch(/sbk_[A-Za-z0-9_-]{20,}/); // only the prefix is ever shown again
    ok(await saeboard(['apikey', 'revoke', 'every-command']), 'apikey revoke');
  }, STAGE_TIMEOUT);

  it('doctor: names the compute path and times an SGEMM on it (test/cli/doctor.test.ts checks it in depth)', async () => {
    const r = await saeboard(['doctor', '--rows', '64', '--reps', '1']);
    ok(r, 'doctor');
    expect(r.stdout).toMatch(/^compute path: /);
    expect(r.stdout).toMatch(/GFLOPS/);
  }, STAGE_TIMEOUT);

  it("games import-transcripts: the paper's chess lines, a cut last move reported", async () => {
    writeFileSync(p('chess.txt'), ';1.e4 e5 2.Nf3 Nc6 3.Bb5 a6\n;1.d4 d5 2.c4 e6 3.Nc3 Nf\n');
    const r = await saeboard(['games', 'import-transcripts', p('chess.txt'), '--game', 'chess', '--out', p('transcripts'), '--bsp', 'none', '--no-register', '--no-progress']);
    ok(r, 'games import-transcripts');
    expect(r.stdout).toMatch(/2 games/);
    expect(r.stdout).toMatch(/1 game\(s\) end in a cut-off move/);
    const bad = await saeboard(['games', 'import-transcripts', p('chess.txt'), '--game', 'go', '--out', p('t2')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--game must be chess or othello/);
  }, STAGE_TIMEOUT);

  it('covers every command the CLI lists', async () => {
    const { buildProgram } = await import('../../src/cli/main.js');
    const program = await buildProgram(['--help']);
    const leaves: string[] = [];
    const walk = (c: Command, prefix: string) => {
      for (const sub of c.commands) {
        if (sub.name() === 'help') continue;
        const name = prefix ? `${prefix} ${sub.name()}` : sub.name();
        if (sub.commands.length) walk(sub, name);
        else leaves.push(name);
      }
    };
    walk(program as Command, '');
    expect(leaves.length).toBeGreaterThan(20);
    expect(leaves.filter((c) => !ran.has(c)), 'commands without an end-to-end run in this file').toEqual([]);
  }, STAGE_TIMEOUT);
});
