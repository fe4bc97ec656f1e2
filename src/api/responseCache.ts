/**
 * Whole-response cache for read queries over stored results. Dashboards ask the same questions
 * again and again (the leaderboard, the features of one BSP), and the answers change only when a
 * job writes new results — which Postgres tells us (src/db/resultsFeed.ts). So an answer is kept,
 * byte for byte, until the next results change, and served without touching the database:
 * - only queries whose every root field reads stored results (CACHED_ROOT_FIELDS) and that select
 *   no type whose values change without a result write (jobs, API keys);
 * - only answers without errors (status 200);
 * - keyed by everything that shapes the answer: method, accept, content-type and the request
 *   (body, or the query string of a GET); auth and limits run before the lookup as usual;
 * - dropped wholesale when the results generation moves, and never served while the LISTEN
 *   connection is down (a notification could be missed then);
 * - bounded in bytes (least recently used out first).
 */
import { getNamedType, getOperationAST, OperationTypeNode, parse, TypeInfo, visit, visitWithTypeInfo, type GraphQLSchema } from 'graphql';
import type { ResultsFeed } from '../db/resultsFeed.js';

/** Root fields answered from stored results alone: same database state, same answer. */
export const CACHED_ROOT_FIELDS: ReadonlySet<string> = new Set([
  'boardProperties',
  'boardProperty',
  'datasets',
  'feature',
  'featureActivations',
  'features',
  'game',
  'games',
  'languageModel',
  'languageModels',
  'leaderboard',
  'lmCheckpoint',
  'positionActivations',
  'sae',
  'saeCheckpoint',
  'saes',
]);

/** Types whose values change without a write to a result table: never cached, wherever selected. */
export const UNCACHED_TYPES: ReadonlySet<string> = new Set(['Job', 'JobConnection', 'JobEdge', 'ApiKey']);

/**
 * Whether the operation `operationName` of `query` may be answered from the cache. False for
 * anything that does not parse or pick one query operation (the server answers those itself).
 */
export function cacheable(schema: GraphQLSchema, query: string, operationName?: string | null): boolean {
  let doc;
  try {
    doc = parse(query);
  } catch {
    return false;
  }
  const op = getOperationAST(doc, operationName ?? undefined);
  if (!op || op.operation !== OperationTypeNode.QUERY) return false;
  for (const sel of op.selectionSet.selections) {
    // Root fields only as fields: a fragment at the root could hide anything; keep it simple.
    if (sel.kind !== 'Field') return false;
    if (sel.name.value !== '__typename' && !CACHED_ROOT_FIELDS.has(sel.name.value)) return false;
  }
  const typeInfo = new TypeInfo(schema);
  let ok = true;
  visit(
    doc,
    visitWithTypeInfo(typeInfo, {
      Field() {
        const type = typeInfo.getType();
        if (type && UNCACHED_TYPES.has(getNamedType(type).name)) ok = false;
      },
    }),
  );
  return ok;
}

export interface CachedResponse {
  status: number;
  headers: [string, string][];
  body: string;
}

interface Entry extends CachedResponse {
  bytes: number;
}

export interface ResponseCacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  hits: number;
  misses: number;
  stores: number;
  evictions: number;
  /** Times the cache was emptied because results changed. */
  invalidations: number;
  generation: number;
  live: boolean;
  /** Backend pid of the LISTEN connection (null while it is down). */
  listenerPid: number | null;
}

export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private stores = 0;
  private evictions = 0;
  private invalidations = 0;

  constructor(
    private readonly feed: ResultsFeed,
    readonly maxBytes: number,
  ) {
    feed.onChange(() => this.clear());
  }

  /** The generation an answer computed from now on belongs to; pass it to `store`. */
  get generation(): number {
    return this.feed.generation;
  }

  get(key: string): CachedResponse | undefined {
    const e = this.feed.live ? this.entries.get(key) : undefined;
    if (!e) {
      this.misses++;
      return undefined;
    }
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(key);
    this.entries.set(key, e);
    this.hits++;
    return e;
  }

  /** Keeps `response` unless results changed since `generation` (read before the query ran). */
  store(key: string, generation: number, response: CachedResponse): void {
    if (!this.feed.live || generation !== this.feed.generation) return;
    const bytes = 2 * (key.length + response.body.length) + 200;
    if (bytes > this.maxBytes / 8) return; // one huge answer must not flush everything else
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    this.entries.set(key, { ...response, bytes });
    this.bytes += bytes;
    this.stores++;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= e.bytes;
      this.evictions++;
    }
  }

  clear(): void {
    if (this.entries.size) this.invalidations++;
    this.entries.clear();
    this.bytes = 0;
  }

  stats(): ResponseCacheStats {
    return {
      entries: this.entries.size,
      bytes: this.bytes,
      maxBytes: this.maxBytes,
      hits: this.hits,
      misses: this.misses,
      stores: this.stores,
      evictions: this.evictions,
      invalidations: this.invalidations,
      generation: this.feed.generation,
      live: this.feed.live,
      listenerPid: this.feed.backendPid,
    };
  }
}

/** A small memo of per-document verdicts (limits, cacheability): clients send the same documents. */
export class DocumentMemo<T> {
  private readonly map = new Map<string, T>();
  constructor(private readonly max = 1000) {}
  get(key: string, compute: () => T): T {
    if (this.map.has(key)) return this.map.get(key)!;
    const value = compute();
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, value);
    return value;
  }
}
