import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import { UserInputError } from '../../errors.js';
import { formatNumber } from '../../progress.js';
import { openDatabase } from '../../db/pool.js';
import { saeboardHome } from '../../db/embedded.js';
import { getJob, listJobs, type JobRow, type JobStatus } from '../../db/repos/jobs.js';
import { JOB_KINDS } from '../../jobs/kinds.js';
import { cancelJob, retryJob, startQueue, startWorker, submitPipeline } from '../../jobs/queue.js';
import { queueSeed, SEED_SIZES } from '../../jobs/seed.js';
import { action, intOption } from '../action.js';
import { exitInterrupted, onInterrupt } from '../signals.js';

const STATUSES: JobStatus[] = ['waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];

function duration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function line(j: JobRow): string {
  const pct = `${Math.round(j.progress * 100)}%`.padStart(4);
  const rate = j.status === 'running' && j.throughput ? `  ${formatNumber(j.throughput)}/s` : '';
  const eta = j.status === 'running' && j.eta_seconds != null ? `, ETA ${duration(j.eta_seconds)}` : '';
  return `#${String(j.id).padEnd(5)} ${j.kind.padEnd(20)} ${j.status.padEnd(9)} ${pct}  ${j.stage ?? ''}${rate}${eta}${j.error ? `  — ${j.error}` : ''}`;
}

async function withDatabase<T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const db = await openDatabase();
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('run queued jobs (on any machine that reaches the database) until stopped')
    .option('-c, --concurrency <n>', 'jobs at once per kind', intOption('concurrency', 1, 64), 1)
    .option('--kinds <list>', `only these kinds (comma-separated: ${JOB_KINDS.map((k) => k.kind).join(', ')})`)
    .option('--stale-seconds <n>', 'requeue running jobs whose worker has been silent this long', intOption('stale-seconds', 2), 30)
    .action(
      action(async (opts: { concurrency: number; kinds?: string; staleSeconds: number }) => {
        const db = await openDatabase();
        const queue = await startQueue(db.pool, { url: db.url });
        const stop = await startWorker(queue, { concurrency: opts.concurrency, kinds: opts.kinds?.split(',').map((k) => k.trim().toUpperCase()), staleSeconds: opts.staleSeconds });
        process.stderr.write(`saeboard: worker running (Ctrl-C to stop after the current job)\n`);
        let stopping = false;
        const shutdown = async () => {
          await stop();
          await queue.stop();
          await db.close();
          process.exit(0);
        };
        // the first signal stops after the current job; a second one stops at once
        onInterrupt((signal) => {
          if (stopping) exitInterrupted(signal);
          stopping = true;
          void shutdown();
        });
        await new Promise(() => {}); // until a signal
      }),
    );

  program
    .command('seed')
    .description('queue the demo pipeline (datasets → activations → SAE sweeps → evaluation) that `serve` queues on first start')
    .option('--game <game>', 'othello or chess', 'othello')
    .option('--size <size>', 'tiny (seconds) or default (a minute or two on 2 cores)', 'default')
    .option('--force', 'queue it again even if this database was seeded before')
    .action(
      action(async (opts: { game: string; size: string; force?: boolean }) => {
        if (opts.game !== 'othello' && opts.game !== 'chess') throw new UserInputError(`--game must be othello or chess (got "${opts.game}")`);
        if (opts.size !== 'tiny' && opts.size !== 'default') throw new UserInputError(`--size must be tiny or default (got "${opts.size}")`);
        await withDatabase(async (db) => {
          const rows = await queueSeed(null, db.pool, { home: saeboardHome(), game: opts.game as 'othello', size: SEED_SIZES[opts.size as 'tiny'], force: opts.force });
          if (!rows) process.stdout.write('already seeded (use --force to queue it again)\n');
          else for (const r of rows) process.stdout.write(line(r) + '\n');
          if (rows) process.stdout.write(`queued ${rows.length} jobs; a worker (\`saeboard worker\` or \`saeboard serve\`) runs them\n`);
        });
      }),
    );

  const jobs = program.command('jobs').description('submit, list, inspect, cancel and retry queued jobs');
  jobs
    .command('submit')
    .description('validate a config and queue one job')
    .argument('<kind>', JOB_KINDS.map((k) => `${k.kind} (${k.description})`).join('; '))
    .requiredOption('--config <file>', 'YAML or JSON config of the job')
    .option('--force', 'run it even if a job of this kind and config already succeeded (default: reuse that result)')
    .action(
      action(async (kind: string, opts: { config: string; force?: boolean }) => {
        const text = await fs.readFile(opts.config, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new UserInputError(`cannot read --config ${opts.config}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
        });
        let config: unknown;
        try {
          config = YAML.parse(text, { maxAliasCount: 100 });
        } catch (err) {
          throw new UserInputError(`${opts.config}: not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`);
        }
        await withDatabase(async (db) => {
          const [row] = await submitPipeline(null, db.pool, null, [{ kind: kind.toUpperCase(), config }], { force: opts.force });
          process.stdout.write(`${line(row)}\n`);
        });
      }),
    );
  jobs
    .command('list')
    .description('newest jobs first')
    .option('--status <status>', STATUSES.join(', '))
    .option('--kind <kind>')
    .option('--pipeline <name>')
    .option('-n, --limit <n>', 'how many', intOption('limit', 1, 10_000), 50)
    .option('--json', 'one JSON object per line')
    .action(
      action(async (opts: { status?: string; kind?: string; pipeline?: string; limit: number; json?: boolean }) => {
        if (opts.status && !STATUSES.includes(opts.status as JobStatus)) throw new UserInputError(`--status must be one of ${STATUSES.join(', ')}`);
        await withDatabase(async (db) => {
          const rows = await listJobs(db.pool, { status: opts.status as JobStatus, kind: opts.kind?.toUpperCase(), pipeline: opts.pipeline, limit: opts.limit });
          for (const r of rows) process.stdout.write((opts.json ? JSON.stringify(r) : line(r)) + '\n');
        });
      }),
    );
  jobs
    .command('show')
    .description('one job: config, status, progress, log tail, result')
    .argument('<id>', 'job id', intOption('id', 1))
    .action(
      action(async (id: number) => {
        await withDatabase(async (db) => {
          const j = await getJob(db.pool, id);
          if (!j) throw new UserInputError(`no job ${id}`);
          process.stdout.write(`${line(j)}\n${YAML.stringify({ config: j.payload, dependsOn: j.depends_on, attempts: j.attempts, worker: j.worker, result: j.result, log: j.log })}`);
        });
      }),
    );
  for (const [name, fn, verb] of [
    ['cancel', cancelJob, 'cancelled'],
    ['retry', retryJob, 'queued again'],
  ] as const) {
    jobs
      .command(name)
      .description(name === 'cancel' ? 'cancel a job and what waits on it (a running job stops within seconds)' : 'queue a failed or cancelled job (and its cancelled dependents) again')
      .argument('<id>', 'job id', intOption('id', 1))
      .action(
        action(async (id: number) => {
          await withDatabase(async (db) => {
            const rows = await fn(null, db.pool, id);
            process.stdout.write(rows.length ? `${verb}: ${rows.map((r) => `#${r.id}`).join(', ')}\n` : `nothing to do: job ${id} is already finished\n`);
          });
        }),
      );
  }
}
