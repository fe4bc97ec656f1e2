import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import { isSaeboardError } from '../errors.js';
import { log } from '../log.js';

/** Codes a client can rely on, in `errors[].extensions.code`. */
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
]);

/**
 * Map every error to a stable `extensions.code`. Expected errors (saeboard's own, GraphQL syntax
 * and validation, argument validation) keep their message; anything else is an internal error:
 * logged in full here, and the client sees only a generic message (never a stack trace).
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
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && CLIENT_CODES.has(code)) {
    return { message: formatted.message, path, locations, extensions: { code } };
  }
  if (original instanceof GraphQLError && !original.originalError && !code) {
    // A GraphQL execution error without a cause (e.g. a non-null violation): safe to show.
    return { message: formatted.message, path, locations, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
  log.error({ err: original, path }, 'internal error while resolving a request');
  return { message: 'Internal server error', path, locations, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
