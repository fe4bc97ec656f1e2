import type { Command } from 'commander';
import { startServer } from '../../api/server.js';
import { initBackend } from '../../tensor/backend.js';
import { openDatabase, redactUrl } from '../../db/pool.js';
import { log } from '../../log.js';
import { UserInputError } from '../../errors.js';
import { saeboardHome } from '../../db/embedded.js';
import { action, intOption } from '../action.js';

export function register(program: Command): void {
  program
    .command('serve')
    .description('Start the GraphQL server (embedded Postgres unless DATABASE_URL is set)')
    .option('-p, --port <port>', 'HTTP port', intOption('port', 0, 65535), Number(process.env.PORT ?? 4000))
    .option('--host <host>', 'interface to listen on (0.0.0.0 for all, e.g. in Docker)', process.env.HOST ?? '127.0.0.1')
    .option('--no-seed', 'do not register the BSP catalogue and the shipped models, nor queue the first-start demo pipeline')
    .option('--no-worker', 'do not run queued jobs in this process (run `saeboard worker` elsewhere)')
    .option('--seed-size <size>', 'first-start pipeline size: tiny or default', 'default')
    .addHelpText(
      'after',
      '\nEnvironment:\n  DATABASE_URL       use this Postgres instead of the embedded one\n  SAEBOARD_HOME      where the embedded Postgres keeps its data (default ./.saeboard)\n  SAEBOARD_BACKEND   force a compute backend\n',
    )
    .action(
      action(async (opts: { port: number; host: string; seed: boolean; worker: boolean; seedSize: string }) => {
        if (opts.seedSize !== 'tiny' && opts.seedSize !== 'default') throw new UserInputError(`--seed-size must be tiny or default (got "${opts.seedSize}")`);
        const db = await openDatabase();
        let server: Awaited<ReturnType<typeof startServer>>;
        let backend: Awaited<ReturnType<typeof initBackend>>;
        try {
          backend = await initBackend();
          server = await startServer({ pool: db.pool, port: opts.port, host: opts.host });
        } catch (err) {
          // a busy port (or any failure before serving): stop what we started, then report
          await db.close().catch(() => {});
          throw err;
        }
        log.info({ url: server.url, database: redactUrl(db.url), backend: backend.name, kernels: backend.kernels }, 'saeboard is serving');
        process.stderr.write(`saeboard: GraphQL API at ${server.url}\n`);
        let stopQueue = async () => {};
        let stopping = false;
        const shutdown = async (signal: string) => {
          if (stopping) return;
          stopping = true;
          log.info({ signal }, 'shutting down');
          // Never hang on the way out: whatever is still stopping after 20 s is cut off.
          setTimeout(() => process.exit(1), 20_000).unref();
          // The queue first: the HTTP server's drain does not finish while pg-boss is still running.
          await stopQueue().catch((err) => log.warn({ err }, 'error while stopping the job worker'));
          await server.close().catch((err) => log.warn({ err }, 'error while stopping the HTTP server'));
          await db.close().catch((err) => log.warn({ err }, 'error while closing the database'));
          process.exit(0);
        };
        process.on('SIGINT', () => void shutdown('SIGINT'));
        process.on('SIGTERM', () => void shutdown('SIGTERM'));
        // The API answers from here on; the catalogue, the shipped models and the queue come up behind it.
        const { queueSeed, seedDatabase, SEED_SIZES } = await import('../../jobs/seed.js');
        if (opts.seed) await seedDatabase(db.pool);
        if (opts.worker) {
          const { startQueue, startWorker } = await import('../../jobs/queue.js');
          const queue = await startQueue(db.pool, { url: db.url });
          const stopWorker = await startWorker(queue, { concurrency: 1 });
          stopQueue = async () => {
            await stopWorker();
            await queue.stop();
          };
          if (opts.seed) await queueSeed(queue, db.pool, { home: saeboardHome(), size: SEED_SIZES[opts.seedSize as 'tiny'] });
        } else if (opts.seed) {
          await queueSeed(null, db.pool, { home: saeboardHome(), size: SEED_SIZES[opts.seedSize as 'tiny'] });
        }
      }),
    );
}
