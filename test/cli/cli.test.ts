import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/version.js';

const exec = promisify(execFile);

/** Run the CLI from source (no build needed) and capture exit code and output. */
export async function runCli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env, SAEBOARD_LOG_LEVEL: 'warn' },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('saeboard CLI', () => {
  it('--help lists the commands and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['serve', 'migrate', 'db:status', 'games', 'lm', 'sae', 'eval']) expect(r.stdout).toContain(cmd);
  });

  it('loads only the command group that is named (fast start for light commands)', async () => {
    const { commandGroups, groupsFor } = await import('../../src/cli/commands/index.js');
    expect(await groupsFor(['games', 'info', 'x'])).toHaveLength(1);
    expect(await groupsFor(['--verbose', 'db:status'])).toHaveLength(1);
    expect(await groupsFor(['--help'])).toHaveLength(commandGroups.length);
    expect(await groupsFor(['no-such-command'])).toHaveLength(commandGroups.length);
  });

  it('every command has --help', async () => {
    for (const cmd of ['serve', 'migrate', 'db:status']) {
      const r = await runCli([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout).toContain(`Usage: saeboard ${cmd}`);
    }
  });

  it('an unknown command exits 2 with a one-line error', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it('a bad option value exits non-zero naming the option', async () => {
    const r = await runCli(['serve', '--port', 'abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port must be an integer/);
  });

  it('an unreachable database gives one readable line and exit 1', async () => {
    const r = await runCli(['db:status'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/nothing' });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^saeboard: error: cannot connect to postgres:\/\/nobody@127\.0\.0\.1:1\/nothing/);
  });
});
