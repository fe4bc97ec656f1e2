import type { Command } from 'commander';
import { startServer } from '../../api/server.js';
import { initBackend } from '../../tensor/backend.js';
import { openDatabase, redactUrl } from '../../db/pool.js';
import { log } from '../../log.js';
import { action, intOption } from '../action.js';

export function register(program: Command): void {
  program
    .command('serve')
    .description('Start the GraphQL server (embedded Postgres unless DATABASE_URL is set)')
    .option('-p, --port <port>', 'HTTP port', intOption('port', 0, 65535), Number(process.env.PORT ?? 4000))
    .option('--host <host>', 'interface to listen on (0.0.0.0 for all, e.g. in Docker)', process.env.HOST ?? '127.0.0.1')
    .option('--no-seed', 'do not register the BSP catalogue and the shipped models at start')
    .addHelpText(
      'after',
      '\nEnvironment:\n  DATABASE_URL       use this Postgres instead of the embedded one\n  SAEBOARD_HOME      where the embedded Postgres keeps its data (default ./.saeboard)\n  SAEBOARD_BACKEND   force a compute backend\n',
    )
    .action(
      action(async (opts: { port: number; host: string; seed: boolean }) => {
        const db = await openDatabase();
        let server: Awaited<ReturnType<typeof startServer>>;
        let backend: Awaited<ReturnType<typeof initBackend>>;
        try {
          if (opts.seed) {
            const { seedDatabase } = await import('../../jobs/seed.js');
            await seedDatabase(db.pool);
          }
          backend = await initBackend();
          server = await startServer({ pool: db.pool, port: opts.port, host: opts.host });
        } catch (err) {
          // a busy port (or any failure before serving): stop what we started, then report
          await db.close().catch(() => {});
          throw err;
        }
        log.info({ url: server.url, database: redactUrl(db.url), backend: backend.name, kernels: backend.kernels }, 'saeboard is serving');
        process.stderr.write(`saeboard: GraphQL API at ${server.url}\n`);
        let stopping = false;
        const shutdown = async (signal: string) => {
          if (stopping) return;
          stopping = true;
          log.info({ signal }, 'shutting down');
          await server.close().catch((err) => log.warn({ err }, 'error while stopping the HTTP server'));
          await db.close().catch((err) => log.warn({ err }, 'error while closing the database'));
          process.exit(0);
        };
        process.on('SIGINT', () => void shutdown('SIGINT'));
        process.on('SIGTERM', () => void shutdown('SIGTERM'));
      }),
    );
}
