/** `saeboard sae ...` end to end in a child process: exit codes and one-line errors. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/version.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'sae-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'sae', ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, SAEBOARD_LOG_LEVEL: 'warn', DATABASE_URL: '' },
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('saeboard sae', () => {
  it('sweep: trains from a YAML config and reports every SAE', () => {
    const cfg = path.join(tmp, 'sweep.yaml');
    writeFileSync(
      cfg,
      ['name: cli-demo', 'batchSize: 64', 'buffer: { contexts: 20 }', 'source: { type: synthetic, dIn: 8, features: 16, active: 2, contexts: 200, contextLength: 8 }', 'defaults: { steps: 12, warmupSteps: 2 }', 'trainers:', '  - { trainer: standard, expansion: 2, l1Penalty: [0.05, 0.1] }', '  - { trainer: top_k, expansion: 2, k: 2 }'].join('\n'),
    );
    const out = path.join(tmp, 'out');
    const r = cli('sweep', '--config', cfg, '--out', out, '--no-progress', '--no-register');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/trainer0\s+standard\s+m=16\s+l1Penalty=0\.05\d*\s+finished/);
    expect(r.out).toMatch(/trainer2\s+top_k/);
    expect(existsSync(path.join(out, 'trainer2', 'final', 'ae.safetensors'))).toBe(true);
    const info = cli('info', path.join(out, 'trainer2', 'final'));
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/dictionary\s+top_k\s+d_in 8\s+d_sae 16\s+k 2/);
  });

  it('bad sweep config: exit 1 and one line naming the field', () => {
    const cfg = path.join(tmp, 'bad.yaml');
    writeFileSync(cfg, 'name: bad\nsource: { type: synthetic, dIn: 8, features: 8, active: 2, contexts: 10 }\ntrainers:\n  - { trainer: standard, expansion: 2, steps: 5000, l1Penalty: -1 }\n');
    const r = cli('sweep', '--config', cfg, '--no-register');
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe('saeboard: error: bad.yaml.trainers[0].l1Penalty: expected a number > 0');
  });

  it('a huge grid is refused before anything is expanded or written; --max-saes sets the limit', () => {
    const cfg = path.join(tmp, 'huge.yaml');
    writeFileSync(cfg, 'name: huge\nsource: { type: synthetic, dIn: 8, features: 8, active: 2, contexts: 10 }\ntrainers:\n  - { trainer: standard, expansion: 2, steps: 5000, l1Penalty: { linspace: [0.01, 0.1, 1000000] } }\n');
    const out = path.join(tmp, 'huge-out');
    const r = cli('sweep', '--config', cfg, '--out', out, '--no-register');
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe(
      'saeboard: error: huge.yaml: the trainer grids give 1,000,000 SAEs, more than the limit of 1,000 (trainers[0]: l1Penalty 1,000,000); shrink the grid, or raise the limit with --max-saes or limits.maxSaes in the config',
    );
    expect(existsSync(out)).toBe(false);
    const small = path.join(tmp, 'small.yaml');
    writeFileSync(small, 'name: small\nsource: { type: synthetic, dIn: 8, features: 8, active: 2, contexts: 10 }\ntrainers:\n  - { trainer: standard, expansion: 2, steps: 5000, l1Penalty: [0.1, 0.2, 0.3] }\n');
    const lowered = cli('sweep', '--config', small, '--out', out, '--no-register', '--max-saes', '2');
    expect(lowered.code).toBe(1);
    expect(lowered.err).toMatch(/gives? 3 SAEs, more than the limit of 2/);
    const work = cli('sweep', '--config', small, '--out', out, '--no-register', '--max-work', '1e3');
    expect(work.code).toBe(1);
    expect(work.err).toMatch(/3 SAE\(s\) × their steps × batch 8192 = 1\.23e\+8 activation vectors to train on, more than the limit of 1\.00e\+3/);
    expect(existsSync(out)).toBe(false);
  });

  it('unknown trainer and unknown export format are usage errors with the choices', () => {
    const r = cli('train', '--trainer', 'nope', '--out', path.join(tmp, 't'), '--activations', tmp, '--no-register');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unknown trainer "nope" \(known: standard, gated, p_anneal/);
    const e = cli('export', path.join(PROJECT_ROOT, 'test/fixtures/sae/dl_relu'), '--format', 'onnx', '-o', path.join(tmp, 'x'));
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/--format must be one of saeboard, dictionary_learning, saelens/);
  });
});
