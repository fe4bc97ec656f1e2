import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../src/version.js';

const composeFile = path.join(PROJECT_ROOT, 'docker/compose.yaml');

function composeCli(): string[] | null {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    try {
      execFileSync(cmd[0], [...cmd.slice(1), 'version'], { stdio: 'ignore' });
      return cmd;
    } catch {
      /* try the next one */
    }
  }
  return null;
}

describe('docker/', () => {
  it('compose file references existing services, build context and Dockerfile', () => {
    const doc = parse(readFileSync(composeFile, 'utf8')) as { services: Record<string, any> };
    expect(Object.keys(doc.services).sort()).toEqual(['postgres', 'server', 'worker']);
    for (const [name, svc] of Object.entries(doc.services)) {
      for (const dep of Object.keys(svc.depends_on ?? {})) expect(doc.services, `${name} depends on ${dep}`).toHaveProperty(dep);
      if (svc.build) {
        const context = path.resolve(path.dirname(composeFile), svc.build.context);
        expect(existsSync(path.join(context, svc.build.dockerfile))).toBe(true);
        expect(existsSync(path.join(context, 'package.json'))).toBe(true);
      }
    }
    expect(doc.services.server.environment.DATABASE_URL).toMatch(/@postgres:5432\//);
    // Workers are a plain service (scalable with --scale worker=N) on the same database and data volume.
    expect(doc.services.worker.profiles).toBeUndefined();
    expect(doc.services.worker.command).toEqual(['worker']);
    expect(doc.services.worker.environment.DATABASE_URL).toBe(doc.services.server.environment.DATABASE_URL);
    expect(doc.services.worker.volumes).toEqual(doc.services.server.volumes);
    expect(doc.services.server.command).toEqual(['serve', '--no-worker']);
  });

  it('Dockerfile starts the CLI server on all interfaces', () => {
    const df = readFileSync(path.join(PROJECT_ROOT, 'docker/Dockerfile'), 'utf8');
    expect(df).toMatch(/ENTRYPOINT \["node", "bin\/saeboard.js"\]/);
    expect(df).toMatch(/HOST=0\.0\.0\.0/);
  });

  const cli = composeCli();
  it.skipIf(!cli)('`compose config` accepts the compose file', () => {
    const out = execFileSync(cli![0], [...cli!.slice(1), '-f', composeFile, 'config', '--services'], { encoding: 'utf8' });
    expect(out.trim().split('\n').sort()).toEqual(['postgres', 'server', 'worker']);
  });
});
