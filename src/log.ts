import { pino, type Logger } from 'pino';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Human-readable lines for a terminal: "08:37:42 INFO  msg key=value ..."; JSON lines otherwise. */
const prettyStderr = {
  write(line: string) {
    try {
      const { level, time, msg, name: _name, ...rest } = JSON.parse(line) as Record<string, unknown>;
      const t = new Date(time as number).toISOString().slice(11, 19);
      const extra = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(' ');
      process.stderr.write(`${t} ${(LEVELS[level as number] ?? String(level)).padEnd(5)} ${msg ?? ''}${extra ? `  ${extra}` : ''}\n`);
    } catch {
      process.stderr.write(line);
    }
  },
};

/**
 * Structured logs go to stderr so that stdout stays clean for command output (tables, JSON lines).
 * SAEBOARD_LOG_LEVEL=debug|info|warn|error|silent; SAEBOARD_LOG_FORMAT=json|pretty (default: pretty
 * on a terminal, JSON otherwise).
 */
const format = process.env.SAEBOARD_LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json');

export const log: Logger = pino(
  {
    name: 'saeboard',
    level: process.env.SAEBOARD_LOG_LEVEL ?? (process.env.VITEST ? 'warn' : 'info'),
    base: undefined,
  },
  format === 'pretty' ? prettyStderr : pino.destination({ fd: 2, sync: true }),
);
