import { InvalidArgumentError } from "commander";
import { errorMessage, isSaeboardError, userErrorFromSystem } from '../errors.js';

/** Exit codes: 1 = the command failed (bad input, missing data, ...), 2 = usage error, 70 = internal bug. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

/**
 * Wrap a command handler: any error becomes one readable line on stderr and a non-zero exit.
 * Stack traces only with SAEBOARD_DEBUG=1 (or --verbose on the root command, which sets it).
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      reportAndExit(err);
    }
  };
}

export function reportAndExit(thrown: unknown): never {
  // an operating-system error caused by the user's path or port is their mistake, not a bug
  const err = isSaeboardError(thrown) ? thrown : (userErrorFromSystem(thrown) ?? thrown);
  const known = isSaeboardError(err);
  const line = known ? errorMessage(err) : `internal error: ${errorMessage(err)}`;
  process.stderr.write(`saeboard: error: ${line}\n`);
  if (process.env.SAEBOARD_DEBUG && thrown instanceof Error && thrown.stack) process.stderr.write(thrown.stack + '\n');
  else if (!known) process.stderr.write('(run with SAEBOARD_DEBUG=1 for the stack trace)\n');
  process.exit(known ? EXIT_FAILURE : EXIT_INTERNAL);
}

/** Parse a positive integer option, with an error that names the option. */
export function intOption(name: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`--${name} must be an integer in [${min}, ${max}], got "${value}"`);
    }
    return n;
  };
}
