import type { Command } from 'commander';
import { UserInputError } from '../../errors.js';
import { openDatabase } from '../../db/pool.js';
import { saeboardHome } from '../../db/embedded.js';
import { getJobsByIds, type JobRow } from '../../db/repos/jobs.js';
import { startQueue, startWorker } from '../../jobs/queue.js';
import { parseScale, queueReproduction, REPRO_MODELS, type ReproGame } from '../../jobs/reproduce.js';
import { seedDatabase } from '../../jobs/seed.js';
import { action, intOption } from '../action.js';
import { exitInterrupted, onInterrupt } from '../signals.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

function summary(rows: JobRow[]): { done: number; failed: JobRow[]; line: string } {
  const done = rows.filter((r) => r.status === 'succeeded').length;
  const failed = rows.filter((r) => r.status === 'failed' || r.status === 'cancelled');
  const running = rows.filter((r) => r.status === 'running');
  const frac = rows.reduce((a, r) => a + (r.status === 'succeeded' ? 1 : r.status === 'running' ? r.progress : 0), 0) / rows.length;
  const now = running.map((r) => `${r.stage ?? r.kind} ${Math.round(r.progress * 100)}%`).join('; ');
  return { done, failed, line: `[${(100 * frac).toFixed(1).padStart(5)}%] ${done}/${rows.length} stages done${now ? ` — ${now}` : ''}` };
}

export function register(program: Command): void {
  program
    .command('reproduce')
    .description("queue the paper's reproduction (datasets → activations of the trained LM and its random-init twin → SAE sweeps → evaluation of every checkpoint → probes) and follow it")
    .option('--game <game>', 'othello, chess or both', 'both')
    .option('--scale <scale>', 'tiny (about a minute, for tests), small (about an hour on 2 cores), N (N × small: tokens and SAEs) or paper (300M tokens, batch 8192, 40 SAEs a trainer)', 'small')
    .option('--force', 'run every stage again (default: stages that already succeeded with the same config are reused)')
    .option('--detach', 'only queue the jobs (a `saeboard worker` or `saeboard serve` runs them)')
    .option('--no-worker', 'follow the progress but leave the work to other workers')
    .option('-c, --concurrency <n>', 'jobs at once in this process', intOption('concurrency', 1, 64), 1)
    .addHelpText(
      'after',
      `
Models: ${Object.entries(REPRO_MODELS)
        .map(([g, m]) => `${g}: ${m.trained} and ${m.random}`)
        .join('; ')}. Re-running continues: finished stages are reused, a half-done sweep resumes.
Then \`npm run report\` writes docs/reproduction.md from the database.`,
    )
    .action(
      action(async (opts: { game: string; scale: string; force?: boolean; detach?: boolean; worker: boolean; concurrency: number }) => {
        const games: ReproGame[] = opts.game === 'both' ? ['othello', 'chess'] : opts.game === 'othello' || opts.game === 'chess' ? [opts.game] : [];
        if (!games.length) throw new UserInputError(`--game must be othello, chess or both (got "${opts.game}")`);
        const scale = parseScale(opts.scale);
        const db = await openDatabase();
        let queue: Awaited<ReturnType<typeof startQueue>> | null = null;
        let stopWorker: (() => Promise<void>) | null = null;
        const close = async () => {
          await stopWorker?.();
          await queue?.stop();
          await db.close();
        };
        try {
          await seedDatabase(db.pool); // the BSP catalogue and the shipped LMs with their random-init twins
          const queued = await queueReproduction(null, db.pool, { home: saeboardHome(), games, scale, force: opts.force });
          const ids = queued.flatMap((q) => q.jobs.map((j) => j.id));
          for (const q of queued) {
            const reused = q.jobs.filter((j) => j.status === 'succeeded').length;
            process.stdout.write(`${q.pipeline}: ${q.jobs.length} jobs (#${q.jobs[0].id}–#${q.jobs[q.jobs.length - 1].id})${reused ? `, ${reused} reused from an earlier run` : ''}\n`);
          }
          if (opts.detach) {
            process.stdout.write('queued; a worker (`saeboard worker` or `saeboard serve`) runs them; `saeboard jobs list --pipeline <name>` follows them\n');
            return;
          }
          if (opts.worker) {
            queue = await startQueue(db.pool, { url: db.url });
            stopWorker = await startWorker(queue, { concurrency: opts.concurrency });
          }
          onInterrupt((signal) => {
            process.stderr.write('\nsaeboard: stopped following; queued jobs stay queued (run `saeboard reproduce` again to continue)\n');
            void close().finally(() => exitInterrupted(signal));
          });
          let last = '';
          for (;;) {
            const rows = (await getJobsByIds(db.pool, ids)).filter((r): r is JobRow => r !== null);
            const s = summary(rows);
            if (s.line !== last) process.stderr.write(`${s.line}\n`);
            last = s.line;
            if (s.failed.length) {
              const f = s.failed[0];
              throw new UserInputError(`stage "${f.stage ?? f.kind}" (job #${f.id}) ${f.status}: ${f.error ?? ''} — fix it and run \`saeboard reproduce\` again (finished stages are reused), or \`saeboard jobs retry ${f.id}\``);
            }
            if (rows.every((r) => FINAL.has(r.status))) break;
            await new Promise((r) => setTimeout(r, 2000));
          }
          process.stdout.write(`reproduction finished (${scale.label}): \`npm run report\` writes docs/reproduction.md\n`);
        } finally {
          await close();
        }
      }),
    );
}
