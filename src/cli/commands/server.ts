import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_RATE_LIMIT, DEFAULT_RESPONSE_CACHE_BYTES, startServer, WEB_DIR } from '../../api/server.js';
import { DEFAULT_QUERY_LIMITS } from '../../api/limits.js';
import { initBackend } from '../../tensor/backend.js';
import { computeSummaryLine, describeComputePath } from '../../tensor/doctor.js';
import { createApiPool, openDatabase, redactUrl } from '../../db/pool.js';
import { log } from '../../log.js';
import { UserInputError } from '../../errors.js';
import { saeboardHome } from '../../db/embedded.js';
import { action, intOption } from '../action.js';
import { onInterrupt } from '../signals.js';

interface ServeOptions {
  port: number;
  host: string;
  seed: boolean;
  worker: boolean;
  seedSize: string;
  requireKey?: boolean;
  corsOrigin?: string[];
  maxBody: number;
  maxBatch: number;
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  requestTimeout: number;
  maxTokens: number;
  maxCost: number;
  rateLimitIp: number;
  rateLimitKey: number;
  statementTimeout: number;
  poolSize: number;
  cacheMib: number;
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

export function register(program: Command): void {
  const L = DEFAULT_QUERY_LIMITS;
  program
    .command('serve')
    .description('Start the GraphQL server (embedded Postgres unless DATABASE_URL is set)')
    .option('-p, --port <port>', 'HTTP port', intOption('port', 0, 65535), Number(process.env.PORT ?? 4000))
    .option('--host <host>', 'interface to listen on (0.0.0.0 for all, e.g. in Docker)', process.env.HOST ?? '127.0.0.1')
    .option('--no-seed', 'do not register the BSP catalogue and the shipped models, nor queue the first-start demo pipeline')
    .option('--no-worker', 'do not run queued jobs in this process (run `saeboard worker` elsewhere)')
    .option('--seed-size <size>', 'first-start pipeline size: tiny or default', 'default')
    .option('--require-key', 'every GraphQL request needs an API key (see `saeboard apikey`); /healthz stays open')
    .option('--cors-origin <origins>', 'allow browsers on these origins (comma-separated or repeated; "*" for any); default: none', collect)
    .option('--max-body <bytes>', 'largest request body', intOption('max-body', 1024), DEFAULT_MAX_BODY_BYTES)
    .option('--max-batch <n>', 'operations allowed in one batched (array) request; 0 = batching off', intOption('max-batch', 0, 100), 0)
    .option('--max-depth <n>', 'deepest selection nesting', intOption('max-depth', 1, 1000), L.maxDepth)
    .option('--max-aliases <n>', 'aliases in one operation', intOption('max-aliases', 0, 100_000), L.maxAliases)
    .option('--max-directives <n>', 'directives in one operation', intOption('max-directives', 0, 100_000), L.maxDirectives)
    .option('--max-tokens <n>', 'lexical tokens in one document', intOption('max-tokens', 100, 10_000_000), L.maxTokens)
    .option('--max-cost <n>', 'estimated cost of one operation (a list counts its fields `first` times)', intOption('max-cost', 1), L.maxCost)
    .option('--rate-limit-ip <n>', 'requests a minute from one client address; 0 = no limit', intOption('rate-limit-ip', 0), DEFAULT_RATE_LIMIT.perIpPerMinute)
    .option('--rate-limit-key <n>', 'requests a minute with one API key; 0 = no limit', intOption('rate-limit-key', 0), DEFAULT_RATE_LIMIT.perKeyPerMinute)
    .option('--statement-timeout <ms>', 'cancel any API database statement running longer; 0 = none', intOption('statement-timeout', 0), 10_000)
    .option('--request-timeout <ms>', 'time a client has to send its whole request', intOption('request-timeout', 100), 30_000)
    .option('--pool-size <n>', 'database connections for the API', intOption('pool-size', 1, 1000), 10)
    .option('--cache-mib <n>', 'MiB of whole answers kept for repeated read queries until results change; 0 = off', intOption('cache-mib', 0, 65536), DEFAULT_RESPONSE_CACHE_BYTES >> 20)
    .addHelpText(
      'after',
      '\nEnvironment:\n  DATABASE_URL       use this Postgres instead of the embedded one\n  SAEBOARD_HOME      where the embedded Postgres keeps its data (default ./.saeboard)\n  SAEBOARD_BACKEND   force a compute backend\n',
    )
    .action(
      action(async (opts: ServeOptions) => {
        if (opts.seedSize !== 'tiny' && opts.seedSize !== 'default') throw new UserInputError(`--seed-size must be tiny or default (got "${opts.seedSize}")`);
        // Migrations, seeding and the job worker use this pool; statements there may take long.
        const db = await openDatabase({ poolSize: 6 });
        // The API gets its own pool: every statement on it is cut off by statement_timeout.
        const apiPool = createApiPool(db.url, { max: opts.poolSize, statementTimeoutMs: opts.statementTimeout });
        let server: Awaited<ReturnType<typeof startServer>>;
        let backend: Awaited<ReturnType<typeof initBackend>>;
        try {
          backend = await initBackend();
          server = await startServer({
            pool: apiPool,
            port: opts.port,
            host: opts.host,
            requireKey: opts.requireKey,
            corsOrigins: opts.corsOrigin,
            maxBodyBytes: opts.maxBody,
            maxBatch: opts.maxBatch,
            limits: { maxDepth: opts.maxDepth, maxAliases: opts.maxAliases, maxDirectives: opts.maxDirectives, maxTokens: opts.maxTokens, maxCost: opts.maxCost },
            requestTimeoutMs: opts.requestTimeout,
            rateLimit: { perIpPerMinute: opts.rateLimitIp, perKeyPerMinute: opts.rateLimitKey },
            responseCacheBytes: opts.cacheMib * (1 << 20),
          });
        } catch (err) {
          // a busy port (or any failure before serving): stop what we started, then report
          await apiPool.end().catch(() => {});
          await db.close().catch(() => {});
          throw err;
        }
        log.info(
          {
            url: server.url,
            database: redactUrl(db.url),
            backend: backend.name,
            kernels: backend.kernels,
            requireKey: Boolean(opts.requireKey),
            cors: opts.corsOrigin ?? [],
            statementTimeoutMs: opts.statementTimeout,
            responseCacheMiB: opts.cacheMib,
          },
          'saeboard is serving',
        );
        // which compute path, and the one command for the best one when this is not it (saeboard doctor measures it)
        process.stderr.write(`saeboard: ${computeSummaryLine(describeComputePath(backend))}\n`);
        process.stderr.write(`saeboard: GraphQL API at ${server.url}${opts.requireKey ? ' (API key required)' : ''}\n`);
        process.stderr.write(
          existsSync(path.join(WEB_DIR, 'index.html')) ? `saeboard: dashboard at ${server.url.replace(/graphql$/, '')}\n` : 'saeboard: dashboard not built (`npm run build` builds it)\n',
        );
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
          await apiPool.end().catch((err) => log.warn({ err }, 'error while closing the API pool'));
          await db.close().catch((err) => log.warn({ err }, 'error while closing the database'));
          process.exit(0);
        };
        onInterrupt((signal) => void shutdown(signal));
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
