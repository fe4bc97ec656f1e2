import type { Command } from 'commander';
import { openDatabase } from '../../db/pool.js';
import { createApiKey, listKeys, revokeKey } from '../../services/apikeys.service.js';
import { action } from '../action.js';

export function register(program: Command): void {
  const apikey = program
    .command('apikey')
    .description('Manage API keys (send one as `Authorization: Bearer <token>` or `x-api-key: <token>`)');

  apikey
    .command('create')
    .description('Create a key and print its token once (only its SHA-256 is stored)')
    .requiredOption('--name <name>', 'a name to recognise the key by (unique among live keys)')
    .option('--json', 'print JSON instead of the bare token')
    .action(
      action(async (opts: { name: string; json?: boolean }) => {
        const db = await openDatabase();
        try {
          const { key, token } = await createApiKey(db.pool, opts.name);
          if (opts.json) process.stdout.write(JSON.stringify({ ...key, token }) + '\n');
          else {
            process.stdout.write(`${token}\n`);
            process.stderr.write(`saeboard: API key "${key.name}" (id ${key.id}) created; the token above is shown only this once.\n`);
          }
        } finally {
          await db.close();
        }
      }),
    );

  apikey
    .command('list')
    .description('List API keys (never their tokens)')
    .option('--all', 'include revoked keys')
    .option('--json', 'print JSON lines instead of a table')
    .action(
      action(async (opts: { all?: boolean; json?: boolean }) => {
        const db = await openDatabase();
        try {
          const keys = await listKeys(db.pool, { includeRevoked: opts.all });
          if (opts.json) {
            for (const k of keys) process.stdout.write(JSON.stringify(k) + '\n');
            return;
          }
          if (!keys.length) {
            process.stdout.write(opts.all ? 'no API keys\n' : 'no live API keys (create one with `saeboard apikey create --name NAME`)\n');
            return;
          }
          const date = (d: Date | null) => (d ? d.toISOString().slice(0, 19).replace('T', ' ') : '-');
          process.stdout.write(`${'id'.padStart(5)}  ${'name'.padEnd(24)} ${'token'.padEnd(14)} ${'created'.padEnd(19)}  ${'last used'.padEnd(19)}  revoked\n`);
          for (const k of keys) {
            process.stdout.write(
              `${String(k.id).padStart(5)}  ${k.name.padEnd(24)} ${(k.prefix + '…').padEnd(14)} ${date(k.createdAt)}  ${date(k.lastUsedAt).padEnd(19)}  ${date(k.revokedAt)}\n`,
            );
          }
        } finally {
          await db.close();
        }
      }),
    );

  apikey
    .command('revoke')
    .description('Revoke a key by name or id; requests with its token are refused from then on')
    .argument('<name-or-id>', 'the key to revoke')
    .action(
      action(async (nameOrId: string) => {
        const db = await openDatabase();
        try {
          const key = await revokeKey(db.pool, nameOrId);
          process.stdout.write(`revoked API key "${key.name}" (id ${key.id})\n`);
        } finally {
          await db.close();
        }
      }),
    );
}
