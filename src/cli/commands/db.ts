import type { Command } from 'commander';
import { openDatabase, redactUrl } from '../../db/pool.js';
import { migrate, migrationStatus } from '../../db/migrate.js';
import { action } from '../action.js';

export function register(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (safe to run concurrently)')
    .action(
      action(async () => {
        const db = await openDatabase({ migrate: false });
        try {
          const applied = await migrate(db.pool);
          process.stdout.write(applied.length ? `applied migrations: ${applied.join(', ')}\n` : 'database is up to date\n');
        } finally {
          await db.close();
        }
      }),
    );

  program
    .command('db:status')
    .description('Show the database in use and the state of every migration')
    .option('--json', 'print JSON instead of a table')
    .action(
      action(async (opts: { json?: boolean }) => {
        const db = await openDatabase({ migrate: false });
        try {
          const status = await migrationStatus(db.pool);
          const { rows } = await db.pool.query<{ v: string }>("SELECT current_setting('server_version') AS v");
          const info = {
            database: redactUrl(db.url),
            embedded: db.embedded ? { dataDir: db.embedded.dataDir, port: db.embedded.port } : null,
            serverVersion: rows[0].v,
            migrations: status,
          };
          if (opts.json) {
            process.stdout.write(JSON.stringify(info, null, 2) + '\n');
            return;
          }
          process.stdout.write(`database: ${info.database}${db.embedded ? ` (embedded, data in ${db.embedded.dataDir})` : ''}\n`);
          process.stdout.write(`server:   PostgreSQL ${info.serverVersion}\n`);
          for (const m of status) {
            const when = m.appliedAt ? m.appliedAt.toISOString() : '';
            process.stdout.write(`  ${String(m.version).padStart(4, '0')}  ${m.name.padEnd(32)} ${m.state.padEnd(12)} ${when}\n`);
          }
          const pending = status.filter((m) => m.state !== 'applied').length;
          process.stdout.write(pending ? `${pending} migration(s) not applied: run \`saeboard migrate\`\n` : 'up to date\n');
        } finally {
          await db.close();
        }
      }),
    );

  const dbCmd = program.command('db').description('The embedded Postgres: stop it');
  dbCmd
    .command('stop')
    .description('Stop the embedded Postgres of SAEBOARD_HOME (e.g. one left running by a crashed server)')
    .option('--force', 'stop it even while other saeboard processes use it')
    .action(
      action(async (opts: { force?: boolean }) => {
        const { defaultDataDir, stopEmbedded } = await import('../../db/embedded.js');
        const dataDir = defaultDataDir();
        const stopped = await stopEmbedded(dataDir, { force: opts.force });
        process.stdout.write(
          stopped
            ? `stopped the embedded Postgres (pid ${stopped.pid}, port ${stopped.port}, data in ${dataDir})\n`
            : `no embedded Postgres is running for ${dataDir}\n`,
        );
      }),
    );
}
