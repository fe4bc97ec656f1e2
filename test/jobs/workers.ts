/** Real `saeboard worker` child processes for the job tests, and waiting on job rows. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { getJob, listJobs, type JobRow } from '../../src/db/repos/jobs.js';
import { PROJECT_ROOT } from '../../src/version.js';

export class Workers {
  readonly children: ChildProcess[] = [];
  constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
    private readonly logDir: string,
  ) {}

  start(extra: string[] = []): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'worker', ...extra], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: this.url, SAEBOARD_LOG_FORMAT: 'json', SAEBOARD_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.pipe(createWriteStream(path.join(this.logDir, `worker-${this.children.length}.log`)));
    this.children.push(child);
    return child;
  }

  killAll(): void {
    for (const w of this.children) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  }

  async waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 120_000): Promise<T> {
    const t0 = Date.now();
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() - t0 > timeoutMs) {
        const jobs = (await listJobs(this.pool, { limit: 20 })).map((j) => `#${j.id} ${j.kind} ${j.status} ${j.progress} ${j.error ?? ''}`).join('\n');
        const logs = this.children.map((_, i) => readFileSync(path.join(this.logDir, `worker-${i}.log`), 'utf8').split('\n').slice(-8).join('\n')).join('\n---\n');
        throw new Error(`timed out waiting for ${what}\n${jobs}\n${logs}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The job once it has succeeded, failed or been cancelled. */
  finished(id: number, timeoutMs = 180_000): Promise<JobRow> {
    return this.waitFor(`job ${id} to finish`, async () => {
      const j = await getJob(this.pool, id);
      return j && ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
    }, timeoutMs);
  }
}
