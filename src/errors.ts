/**
 * Errors that carry a stable, client-visible code. They belong to no transport: the CLI prints
 * `message` on one line and exits non-zero; the GraphQL layer maps `code` to `extensions.code`.
 * Anything that is not a SaeboardError is an internal error, and its details never reach clients.
 */
export type ErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'UNAVAILABLE' | 'INTERNAL';

export class SaeboardError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The caller gave something wrong: a bad file, argument, config field, transcript... */
export class UserInputError extends SaeboardError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('BAD_USER_INPUT', message, details);
  }
}

export class NotFoundError extends SaeboardError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('NOT_FOUND', message, details);
  }
}

export class ConflictError extends SaeboardError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('CONFLICT', message, details);
  }
}

export function isSaeboardError(err: unknown): err is SaeboardError {
  return err instanceof SaeboardError;
}

/** One readable line for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] || err.name;
  if (err === undefined) return 'unknown error';
  return String(err).split('\n')[0];
}
