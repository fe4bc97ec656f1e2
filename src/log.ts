import { pino, type Logger } from 'pino';

/**
 * Structured logs go to stderr so that stdout stays clean for command output (tables, JSON lines).
 * SAEBOARD_LOG_LEVEL=debug|info|warn|error|silent.
 */
export const log: Logger = pino(
  {
    name: 'saeboard',
    level: process.env.SAEBOARD_LOG_LEVEL ?? (process.env.VITEST ? 'warn' : 'info'),
    base: undefined,
  },
  pino.destination({ fd: 2, sync: true }),
);
