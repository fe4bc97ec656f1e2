import { HeaderMap } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import { isSaeboardError } from '../errors.js';
import { log } from '../log.js';

/**
 * Codes a client can rely on, in `errors[].extensions.code`. Every error carries one of these or
 * INTERNAL_SERVER_ERROR; README "API safety" lists them.
 */
export const CLIENT_CODES = new Set([
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'UNAVAILABLE',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'QUERY_TOO_COMPLEX',
  'QUERY_TIMEOUT',
  'UNAUTHENTICATED',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'METHOD_NOT_ALLOWED',
  'REQUEST_TIMEOUT',
]);

/**
 * The request each error arose in, for `formatError` (which Apollo calls without the context).
 * The server's plugin tags errors in `didEncounterErrors`, which Apollo runs before formatting.
 * (Not an AsyncLocalStorage: on Node 20 that installs promise hooks that cost every promise of
 * every request, ~3 % of the server's CPU in bench/api-scale, for the rare error that needs an id.)
 */
const requestIdOfError = new WeakMap<object, string>();

export function tagErrorsWithRequest(errors: readonly object[], requestId: string): void {
  for (const e of errors) requestIdOfError.set(e, requestId);
}

function requestIdOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? requestIdOfError.get(error) : undefined;
}

/** A client error with a stable code and HTTP status, for resolvers and the HTTP layer alike. */
export function clientError(code: string, message: string, status: number, headers?: Record<string, string>): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status, ...(headers ? { headers: new HeaderMap(Object.entries(headers)) } : {}) } } });
}

/** Postgres cancelled the statement: `statement_timeout` on the API's pool ran out. */
function isStatementTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '57014';
}

/**
 * Map every error to a stable `extensions.code`. Expected errors (saeboard's own, GraphQL syntax
 * and validation, limits, argument validation) keep their message; anything else is an internal
 * error: logged in full with the request id, and the client sees only a generic message with that
 * id (never a stack trace).
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const path = formatted.path;
  const locations = formatted.locations;
  if (isSaeboardError(original)) {
    return { message: original.message, path, locations, extensions: { code: original.code } };
  }
  if (original instanceof ArgumentValidationError) {
    const fields = original.extensions?.validationErrors as { property: string; constraints?: Record<string, string> }[] | undefined;
    const detail = fields?.map((f) => `${f.property}: ${Object.values(f.constraints ?? {}).join(', ')}`).join('; ');
    return { message: detail ? `Invalid argument: ${detail}` : original.message, path, locations, extensions: { code: 'BAD_USER_INPUT' } };
  }
  if (isStatementTimeout(original)) {
    log.warn({ requestId: requestIdOf(error), path }, 'a database statement ran past statement_timeout');
    return {
      message: 'The query took longer than this server allows and was cancelled: ask for smaller pages or fewer fields.',
      path,
      locations,
      extensions: { code: 'QUERY_TIMEOUT' },
    };
  }
  // A validation rule's own code (e.g. a limit) wins over Apollo's generic GRAPHQL_VALIDATION_FAILED.
  const cause = error instanceof GraphQLError ? error.originalError : undefined;
  const causeCode = cause instanceof GraphQLError ? cause.extensions?.code : undefined;
  if (typeof causeCode === 'string' && CLIENT_CODES.has(causeCode)) {
    return { message: formatted.message, path, locations, extensions: { code: causeCode } };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && CLIENT_CODES.has(code)) {
    return { message: formatted.message, path, locations, extensions: { code } };
  }
  const requestId = requestIdOf(error);
  if (original instanceof GraphQLError && !original.originalError && !code) {
    // A GraphQL execution error without a cause (e.g. a non-null violation): safe to show.
    return { message: formatted.message, path, locations, extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } };
  }
  log.error({ err: original, path, requestId }, 'internal error while resolving a request');
  return {
    message: `Internal server error (request ${requestId ?? 'unknown'}; the server log has the details)`,
    path,
    locations,
    extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
  };
}
