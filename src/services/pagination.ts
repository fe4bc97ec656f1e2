/**
 * Relay connections over keyset pages. A cursor is the last row's sort key, tagged with the order
 * it belongs to, base64url-encoded JSON: opaque to clients, checked when it comes back.
 */
import { UserInputError } from '../errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T, E extends Edge<T> = Edge<T>> {
  edges: E[];
  pageInfo: PageInfo;
  /** Runs only when a client asks for it (a count can cost more than the page): see lazy(). */
  totalCount: PromiseLike<number | null>;
}

/**
 * A thenable that starts `fn` only when awaited: GraphQL awaits a field's value only when the
 * query selects that field, so an unasked-for count costs nothing.
 */
export function lazy<T>(fn: () => Promise<T>): PromiseLike<T> {
  let started: Promise<T> | null = null;
  return {
    then(onFulfilled, onRejected) {
      started ??= fn();
      return started.then(onFulfilled, onRejected);
    },
  };
}

export function pageSize(first: number | null | undefined): number {
  const n = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) throw new UserInputError(`first must be an integer from 0 to ${MAX_PAGE_SIZE} (got ${n})`);
  return n;
}

export function encodeCursor(tag: string, key: readonly unknown[]): string {
  return Buffer.from(JSON.stringify([tag, ...key])).toString('base64url');
}

/** The sort key of `after`, or null; a cursor of another list or order is a user error. */
export function decodeCursor(tag: string, after: string | null | undefined, arity: number): unknown[] | null {
  if (after == null) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    value = null;
  }
  if (
    !Array.isArray(value) ||
    value[0] !== tag ||
    value.length !== arity + 1 ||
    !value.slice(1).every((v) => (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string')
  ) {
    throw new UserInputError(`invalid cursor "${after.slice(0, 40)}": pass an endCursor this list returned with the same filter and order`);
  }
  return value.slice(1);
}

/** A connection from `limit + 1` fetched rows. */
export function toConnection<R, T, E extends Edge<T> = Edge<T>>(
  tag: string,
  rows: readonly R[],
  limit: number,
  keyOf: (r: R) => readonly unknown[],
  edgeOf: (r: R, cursor: string) => E,
  totalCount: () => Promise<number | null> = async () => null,
): Connection<T, E> {
  const page = rows.slice(0, limit);
  const edges = page.map((r) => edgeOf(r, encodeCursor(tag, keyOf(r))));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > limit,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount: lazy(totalCount),
  };
}
