/**
 * The HTTP server: Apollo Server 5 on plain node:http (no framework), serving
 * - POST/GET /graphql — the API (GET for queries only, never mutations),
 * - GET /graphql from a browser (accept: text/html) — GraphiQL, bundled at `npm run build` into
 *   dist/graphiql/ (scripts/build-graphiql.mjs) and served from here with its assets, no CDN,
 * - GET /healthz — liveness for load balancers and compose health checks (no key, no limits but
 *   the per-IP rate),
 * - GET / and every client-side route of the web dashboard (web/, built by `npm run build` into
 *   dist/web/): its files under /assets/, and index.html for any other browser navigation (deep
 *   links such as /sae/12 are routes of the single-page app, which then talks only to /graphql).
 *
 * What guards it, in the order a request meets them: per-IP rate limit, body size (413 before the
 * rest is read), API key (--require-key makes one mandatory; a bad key is always refused), per-key
 * rate limit, then the query limits of limits.ts inside Apollo. Every refusal is JSON with a stable
 * `extensions.code`; every response carries `x-request-id`, which internal errors quote.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type HTTPGraphQLRequest, type HTTPGraphQLResponse } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { log } from '../log.js';
import { PROJECT_ROOT } from '../version.js';
import { authenticate, type ApiKey } from '../services/apikeys.service.js';
import { appSchema } from './schema.js';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, OperationTypeNode, getOperationAST, parse as parseDocument } from 'graphql';
import { createContext, type Context } from './context.js';
import { formatError, tagErrorsWithRequest } from './errors.js';
import { checkDocument, costLimitPlugin, DEFAULT_QUERY_LIMITS, KnownOperationTypesRule, NoSubscriptionOverHttpRule, type QueryLimits } from './limits.js';
import { startResultsFeed, type ResultsFeed } from '../db/resultsFeed.js';
import { createProcessCaches } from '../services/catalogue.js';
import { cacheable, DocumentMemo, ResponseCache, type ResponseCacheStats } from './responseCache.js';

export interface ServerOptions {
  pool: pg.Pool;
  port?: number;
  /** Interface to listen on; 127.0.0.1 unless told otherwise. */
  host?: string;
  /** Query limits (tokens, depth, aliases, directives, cost); defaults in limits.ts. */
  limits?: Partial<QueryLimits>;
  /** Largest request body; larger ones get 413 PAYLOAD_TOO_LARGE. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Operations allowed in one batched (JSON array) request; 0 = batching off (the default). */
  maxBatch?: number;
  /** Every GraphQL request needs a live API key (/healthz excepted). */
  requireKey?: boolean;
  /** Requests a minute per client IP and per API key; 0 turns a limit off. */
  rateLimit?: { perIpPerMinute: number; perKeyPerMinute: number };
  /** Origins allowed to call the API from a browser ("*" for any); none by default. */
  corsOrigins?: readonly string[];
  /** Time a client has to send its whole request (slow senders are cut off). Default 30 s. */
  requestTimeoutMs?: number;
  /** Bytes of whole answers kept for repeated read queries until results change (responseCache.ts); 0 = off. Default 64 MiB. */
  responseCacheBytes?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 1 << 20;
export const DEFAULT_RATE_LIMIT = { perIpPerMinute: 3000, perKeyPerMinute: 6000 } as const;
export const DEFAULT_RESPONSE_CACHE_BYTES = 64 << 20;

export interface RunningServer {
  url: string;
  port: number;
  httpServer: http.Server;
  /** The response cache's counters; null when it is off. */
  cacheStats(): ResponseCacheStats | null;
  /** The process caches (what each holds) and the results feed they trust. */
  processCacheStats(): { names: number; families: boolean; saes: number; saeCheckpointLists: number; live: boolean; listenerPid: number | null };
  close(): Promise<void>;
}

/** A refusal of the HTTP layer, sent as a GraphQL-shaped JSON error. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The client went away (reset, aborted upload): nothing to answer and nothing to alarm anyone. */
class ClientGone extends Error {}

function isClientGone(err: unknown): boolean {
  if (err instanceof ClientGone) return true;
  const e = err as { code?: string; message?: string } | undefined;
  return e?.code === 'ECONNRESET' || e?.code === 'EPIPE' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE' || e?.message === 'aborted';
}

/**
 * Read the body up to `max` bytes. Past that (or when Content-Length says so up front) it rejects
 * with 413 at once; the caller answers, and the rest of the body is discarded, never buffered.
 */
function readBody(req: http.IncomingMessage, max: number): Promise<string> {
  const tooLarge = () => new HttpError(413, 'PAYLOAD_TOO_LARGE', `Request body is larger than this server's limit of ${max} bytes.`);
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > max) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        cleanup();
        chunks.length = 0;
        return reject(tooLarge());
      }
      chunks.push(c);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(isClientGone(err) ? new ClientGone(err.message) : err);
    };
    const onClose = () => {
      cleanup();
      if (!req.complete) reject(new ClientGone('client closed the connection mid-request'));
    };
    const cleanup = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/**
 * Answer now and stop reading: `connection: close`, the unread body is discarded (never buffered)
 * for a short grace so the client can read the answer instead of seeing a reset, then cut off.
 */
function answerAndStopReading(req: http.IncomingMessage, res: http.ServerResponse, send: () => void): void {
  res.shouldKeepAlive = false;
  res.setHeader('connection', 'close');
  send();
  req.resume();
  const cutOff = setTimeout(() => req.socket.destroy(), 2000);
  cutOff.unref();
  req.socket.once('close', () => clearTimeout(cutOff));
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: http.ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { errors: [{ message: err.message, extensions: { code: err.code } }] }, err.headers);
}

/** The presented API key: `Authorization: Bearer <token>` or `x-api-key: <token>`; undefined when none. */
function presentedToken(req: http.IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : auth.trim();
  }
  const header = req.headers['x-api-key'];
  return Array.isArray(header) ? header[0] : header;
}

export const GRAPHIQL_DIR = path.join(PROJECT_ROOT, 'dist', 'graphiql');
/** GraphiQL's files (the only ones served from disk) and their types. */
const GRAPHIQL_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'graphiql.js': 'text/javascript; charset=utf-8',
  'graphiql.css': 'text/css; charset=utf-8',
  'graphiql.js.LEGAL.txt': 'text/plain; charset=utf-8',
};
/** Everything from this origin; inline styles for the editor's own style attributes. */
const GRAPHIQL_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/** A browser opening /graphql (not an API client, which sends a query and asks for JSON). */
function wantsGraphiql(req: http.IncomingMessage, url: URL): boolean {
  return req.method === 'GET' && !url.searchParams.has('query') && (req.headers.accept ?? '').includes('text/html');
}

async function sendGraphiql(res: http.ServerResponse, file: string): Promise<void> {
  const type = GRAPHIQL_FILES[file];
  let body: Buffer;
  try {
    if (!type) throw new Error('not a GraphiQL file');
    body = await readFile(path.join(GRAPHIQL_DIR, file));
  } catch {
    throw new HttpError(404, 'NOT_FOUND', type ? 'GraphiQL is not built here: run `npm run build` (the API itself works).' : `No file /graphiql/${file}.`);
  }
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    'content-security-policy': GRAPHIQL_CSP,
    'x-content-type-options': 'nosniff',
    'cache-control': file === 'index.html' ? 'no-cache' : 'public, max-age=3600',
  });
  res.end(body);
}

export const WEB_DIR = path.join(PROJECT_ROOT, 'dist', 'web');
const WEB_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};
/** The dashboard: scripts and styles from here only; inline styles for charts and boards; data: images for chess pieces; WebSocket for job updates. */
const WEB_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** A browser navigating (not an API client, not a script asking for a file). */
function isNavigation(req: http.IncomingMessage): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && (req.headers.accept ?? '').includes('text/html');
}

/**
 * A file of the built dashboard: /assets/<name> (hashed names, cached for long), or index.html for
 * `/` and any client-side route. Names are looked up in one folder, never joined with `..`.
 */
async function sendWeb(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): Promise<void> {
  const asset = pathname.startsWith('/assets/') ? pathname.slice('/assets/'.length) : null;
  if (asset !== null && !/^[A-Za-z0-9._-]+$/.test(asset)) throw new HttpError(404, 'NOT_FOUND', `No file ${pathname}.`);
  const file = asset !== null ? path.join(WEB_DIR, 'assets', asset) : path.join(WEB_DIR, 'index.html');
  const type = WEB_TYPES[path.extname(file)];
  let body: Buffer;
  try {
    if (!type) throw new Error('not a dashboard file type');
    body = await readFile(file);
  } catch {
    throw new HttpError(404, 'NOT_FOUND', asset !== null ? `No file ${pathname}.` : 'The web dashboard is not built here: run `npm run build` (the API at /graphql works).');
  }
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    'content-security-policy': WEB_CSP,
    'x-content-type-options': 'nosniff',
    'cache-control': asset !== null ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The GraphQL documents of a request: GET's `query` parameter, or the body's (each one of a batch). */
function queriesOf(url: URL, body: unknown): string[] {
  const items = Array.isArray(body) ? body : [body ?? { query: url.searchParams.get('query') }];
  return items.map((b) => (b && typeof b === 'object' ? (b as { query?: unknown }).query : undefined)).filter((q): q is string => typeof q === 'string');
}

/** A client that asks for plain application/json (not application/graphql-response+json). */
function legacyJsonClient(accept: string | undefined): boolean {
  const asked = (accept ?? '').toLowerCase();
  return asked.includes('application/json') && !asked.includes('application/graphql-response+json');
}

/** Codes of GraphQL request errors that the spec answers with 200 under `accept: application/json`. */
const REQUEST_ERROR_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'QUERY_TOO_COMPLEX']);

/**
 * GraphQL over HTTP: a client that asks for plain `application/json` (legacy clients) gets 200 for
 * parse, validation and variable-coercion errors; one that accepts application/graphql-response+json
 * (or anything) keeps Apollo's 400.
 */
function statusFor(result: HTTPGraphQLResponse, accept: string | undefined): number {
  const status = result.status ?? 200;
  if (status !== 400 || result.body.kind !== 'complete') return status;
  if (!legacyJsonClient(accept)) return status;
  if (!(result.headers.get('content-type') ?? '').startsWith('application/json')) return status;
  try {
    const body = JSON.parse(result.body.string) as { errors?: { extensions?: { code?: string } }[] };
    const codes = body.errors?.map((e) => e.extensions?.code ?? '') ?? [];
    return codes.length && codes.every((c) => REQUEST_ERROR_CODES.has(c)) ? 200 : status;
  } catch {
    return status;
  }
}

/** Everything that shapes an answer besides the database: method, what the client accepts, the request itself. */
function responseKey(method: string, req: http.IncomingMessage, url: URL, body: unknown): string {
  const request = method === 'GET' ? url.search : JSON.stringify(body);
  return `${method}\u0000${req.headers.accept ?? ''}\u0000${req.headers['content-type'] ?? ''}\u0000${request}`;
}

/** Tags each error with its request's id before Apollo formats it (formatError logs and shows the id). */
const requestIdOfErrorsPlugin: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async didEncounterErrors({ errors, contextValue }) {
        tagErrorsWithRequest(errors, contextValue.requestId);
      },
    };
  },
};

/**
 * Records in the request's outcome whether its answer carries no errors: only those are cached.
 * (Apollo hands plugins a shallow copy of the context, so the flag lives in a shared object.)
 */
const answeredWithoutErrorsPlugin: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        if (contextValue.outcome) contextValue.outcome.withoutErrors = response.body.kind === 'single' && !response.body.singleResult.errors?.length;
      },
    };
  },
};

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const limits: QueryLimits = { ...DEFAULT_QUERY_LIMITS, ...opts.limits };
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxBatch = opts.maxBatch ?? 0;
  const rate = opts.rateLimit ?? DEFAULT_RATE_LIMIT;
  const ipLimiter = rate.perIpPerMinute > 0 ? new RateLimiterMemory({ points: rate.perIpPerMinute, duration: 60 }) : null;
  const keyLimiter = rate.perKeyPerMinute > 0 ? new RateLimiterMemory({ points: rate.perKeyPerMinute, duration: 60 }) : null;
  const corsOrigins = new Set(opts.corsOrigins ?? []);

  const requestTimeout = opts.requestTimeoutMs ?? 30_000;
  const httpServer = http.createServer({
    requestTimeout,
    headersTimeout: Math.min(requestTimeout, 20_000),
    // How often Node looks for connections past those timeouts (its default is 30 s).
    connectionsCheckingInterval: Math.max(50, Math.min(5000, requestTimeout / 2)),
  });
  const schema = appSchema();
  const cacheBytes = opts.responseCacheBytes ?? DEFAULT_RESPONSE_CACHE_BYTES;
  // One LISTEN connection tells the response cache and the process caches when results change.
  const resultsFeed: ResultsFeed = await startResultsFeed(opts.pool);
  const cache = cacheBytes > 0 ? new ResponseCache(resultsFeed, cacheBytes) : null;
  const caches = createProcessCaches(opts.pool, resultsFeed);
  // Clients send the same few documents: check each one's limits and cacheability once.
  const limitVerdicts = new DocumentMemo<GraphQLError | null>();
  const cacheVerdicts = new DocumentMemo<boolean>();
  const apollo = new ApolloServer<Context>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    introspection: true,
    allowBatchedHttpRequests: maxBatch > 0,
    // GET is for queries only (Apollo refuses mutations over GET with 405) and POST needs
    // application/json, which a cross-site form cannot send without a CORS preflight; so the CSRF
    // header check would only refuse plain GET queries, which the GraphQL-over-HTTP spec allows.
    csrfPrevention: false,
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: [KnownOperationTypesRule, NoSubscriptionOverHttpRule],
    // No cache-control plugin: the schema sets no cache hints, and the plugin's per-field hook makes
    // Apollo wrap every resolver (2 % of a feature page's CPU); whole answers are cached by responseCache.ts.
    plugins: [
      costLimitPlugin(limits),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      answeredWithoutErrorsPlugin,
      requestIdOfErrorsPlugin,
    ],
    // Compact JSON: smaller answers, less time in JSON.stringify (Apollo's default indents).
    stringifyResult: (value) => JSON.stringify(value),
    logger: {
      debug: (m) => log.debug(m),
      info: (m) => log.info(m),
      warn: (m) => log.warn(m),
      error: (m) => log.error(m),
    },
  });
  await apollo.start();

  async function consume(limiter: RateLimiterMemory | null, key: string, who: string): Promise<void> {
    if (!limiter) return;
    try {
      await limiter.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const seconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new HttpError(429, 'RATE_LIMITED', `Too many requests from this ${who}: retry in ${seconds} s.`, { 'retry-after': String(seconds) });
    }
  }

  async function authenticateRequest(req: http.IncomingMessage): Promise<ApiKey | null> {
    const token = presentedToken(req);
    const challenge = { 'www-authenticate': 'Bearer realm="saeboard"' };
    if (token === undefined || token === '') {
      if (opts.requireKey) {
        throw new HttpError(401, 'UNAUTHENTICATED', 'This server requires an API key: send `Authorization: Bearer <token>` (create one with `saeboard apikey create --name NAME`).', challenge);
      }
      return null;
    }
    const key = await authenticate(opts.pool, token);
    if (!key) throw new HttpError(401, 'UNAUTHENTICATED', 'The API key is unknown or revoked.', challenge);
    return key;
  }

  /** One plain (unbatched) query operation whose every field may be cached. */
  function cacheableRequest(url: URL, body: unknown): boolean {
    if (Array.isArray(body)) return false;
    const b = (body ?? {}) as { query?: unknown; operationName?: unknown };
    const query = body === undefined ? url.searchParams.get('query') : b.query;
    if (typeof query !== 'string') return false;
    const operationName = body === undefined ? url.searchParams.get('operationName') : typeof b.operationName === 'string' ? b.operationName : null;
    return cacheVerdicts.get(`${operationName ?? ''}\u0000${query}`, () => cacheable(schema, query, operationName));
  }

  async function handleGraphQL(req: http.IncomingMessage, res: http.ServerResponse, url: URL, requestId: string): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'POST') {
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not supported on /graphql: use POST, or GET for queries.`, { allow: 'GET, POST' });
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    let body: unknown;
    if (method === 'POST') {
      const text = await readBody(req, maxBody);
      if ((headers.get('content-type') ?? '').includes('application/json')) {
        try {
          body = text.length ? JSON.parse(text) : undefined;
        } catch {
          throw new HttpError(400, 'BAD_REQUEST', 'Request body is not valid JSON.');
        }
      } else {
        body = text;
      }
      if (Array.isArray(body) && maxBatch === 0) {
        throw new HttpError(400, 'BAD_REQUEST', 'Batched requests are off on this server (`saeboard serve --max-batch N` allows them).');
      }
      if (Array.isArray(body) && body.length > maxBatch) {
        throw new HttpError(400, 'BAD_REQUEST', `A batch may hold at most ${maxBatch} operations; this one has ${body.length}.`);
      }
    }
    for (const query of queriesOf(url, body)) {
      const refused = limitVerdicts.get(query, () => checkDocument(schema, query, limits));
      if (refused) {
        throw new HttpError(legacyJsonClient(req.headers.accept) ? 200 : 400, 'QUERY_TOO_COMPLEX', refused.message);
      }
    }
    const apiKey = await authenticateRequest(req);
    if (apiKey) await consume(keyLimiter, String(apiKey.id), 'API key');

    const cacheKey = cache && cacheableRequest(url, body) ? responseKey(method, req, url, body) : null;
    if (cache && cacheKey) {
      const hit = cache.get(cacheKey);
      if (hit) {
        for (const [key, value] of hit.headers) res.setHeader(key, value);
        res.setHeader('x-cache', 'hit');
        res.statusCode = hit.status;
        return void res.end(hit.body);
      }
      res.setHeader('x-cache', 'miss');
    }
    const generation = cache?.generation ?? 0;
    const outcome = { withoutErrors: false };
    const httpGraphQLRequest: HTTPGraphQLRequest = { method, headers, search: url.search, body };
    const result = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: async () => ({ ...createContext(opts.pool, requestId, { apiKey, caches }), outcome }) });
    for (const [key, value] of result.headers) res.setHeader(key, value);
    res.statusCode = statusFor(result, req.headers.accept);
    if (result.body.kind === 'complete') {
      if (cache && cacheKey && res.statusCode === 200 && outcome.withoutErrors) {
        cache.store(cacheKey, generation, { status: 200, headers: [...result.headers], body: result.body.string });
      }
      res.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  /** CORS for the configured origins; true when this was a preflight and is answered. */
  function cors(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const origin = req.headers.origin;
    if (!corsOrigins.size) return false;
    res.setHeader('vary', 'Origin');
    if (!origin || !(corsOrigins.has('*') || corsOrigins.has(origin))) return false;
    res.setHeader('access-control-allow-origin', corsOrigins.has('*') ? '*' : origin);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': 'content-type, accept, authorization, x-api-key',
        'access-control-max-age': '600',
      });
      res.end();
      return true;
    }
    res.setHeader('access-control-expose-headers', 'x-request-id, retry-after');
    return false;
  }

  httpServer.on('request', (req, res) => {
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const done = (err?: unknown) => {
      if (!err) return;
      if (isClientGone(err)) {
        log.debug({ requestId, reason: (err as Error).message }, 'client went away before the answer');
        res.destroy();
        return;
      }
      if (err instanceof HttpError) {
        // Debug only: an attack is thousands of these, and each client already got its answer.
        log.debug({ requestId, status: err.status, code: err.code, ip: req.socket.remoteAddress }, 'request refused');
        if (res.headersSent) return void res.end();
        // Unread body left (413, or refused before reading it): answer, then stop reading.
        if (!req.complete) return answerAndStopReading(req, res, () => sendError(res, err));
        return sendError(res, err);
      }
      log.error({ err, requestId }, 'unhandled error in HTTP handler');
      if (!res.headersSent) {
        sendJson(res, 500, { errors: [{ message: `Internal server error (request ${requestId})`, extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } }] });
      } else res.end();
    };
    const route = async () => {
      if (cors(req, res)) return;
      await consume(ipLimiter, req.socket.remoteAddress ?? 'unknown', 'address');
      if (url.pathname === '/graphql') {
        return wantsGraphiql(req, url) ? sendGraphiql(res, 'index.html') : handleGraphQL(req, res, url, requestId);
      }
      if (url.pathname.startsWith('/graphiql/') && req.method === 'GET') return sendGraphiql(res, url.pathname.slice('/graphiql/'.length));
      if (url.pathname === '/healthz') {
        const ok = await opts.pool.query('SELECT 1').then(
          () => true,
          () => false,
        );
        return sendJson(res, ok ? 200 : 503, ok ? { ok: true } : { ok: false, database: false });
      }
      if (url.pathname.startsWith('/assets/') && (req.method === 'GET' || req.method === 'HEAD')) return sendWeb(req, res, url.pathname);
      if (isNavigation(req) && !url.pathname.startsWith('/graphiql/')) return sendWeb(req, res, url.pathname);
      throw new HttpError(404, 'NOT_FOUND', `No route ${url.pathname}; the API is at /graphql.`);
    };
    route().then(() => done(), done);
  });
  // Malformed HTTP, or a client cut off by requestTimeout: answer if the socket still can, quietly.
  httpServer.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    log.debug({ code: err.code, reason: err.message }, 'client error on an HTTP connection');
    if (socket.writable && !socket.destroyed) {
      const [status, code, message] =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? ['408 Request Timeout', 'REQUEST_TIMEOUT', 'The request was not received in time.']
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? ['431 Request Header Fields Too Large', 'BAD_REQUEST', 'Request headers are too large.']
            : ['400 Bad Request', 'BAD_REQUEST', 'Malformed HTTP request.'];
      const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    } else socket.destroy();
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port ?? 4000, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;

  // Subscriptions (jobUpdated) over WebSocket at the same path, graphql-ws protocol. Only
  // subscription operations; the same document limits and API key rules as HTTP.
  const wss = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: maxBody });
  const ws = useServer<Record<string, unknown>, { apiKey?: ApiKey | null }>(
    {
      schema,
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.apiKey;
        const token = typeof raw === 'string' ? raw.replace(/^Bearer\s+/i, '').trim() : '';
        const key = token ? await authenticate(opts.pool, token) : null;
        if ((token && !key) || (opts.requireKey && !key)) return false; // closes with 4403 Forbidden
        ctx.extra.apiKey = key;
        return true;
      },
      onSubscribe: (_ctx, _id, payload) => {
        const limitError = checkDocument(schema, payload.query, limits);
        if (limitError) return [limitError];
        let doc;
        try {
          doc = parseDocument(payload.query, { maxTokens: limits.maxTokens });
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError(String(err))];
        }
        const op = getOperationAST(doc, payload.operationName);
        if (op?.operation !== OperationTypeNode.SUBSCRIPTION) {
          return [new GraphQLError('Only subscriptions go over WebSocket; send queries and mutations over HTTP.', { extensions: { code: 'BAD_REQUEST' } })];
        }
        return undefined;
      },
      context: (ctx) => createContext(opts.pool, randomUUID(), { apiKey: ctx.extra.apiKey ?? null, caches }),
    },
    wss,
  );

  return {
    url: `http://${shownHost}:${port}/graphql`,
    port,
    httpServer,
    cacheStats: () => cache?.stats() ?? null,
    processCacheStats: () => ({ ...caches.catalogue.size, saes: caches.saes.size, saeCheckpointLists: caches.checkpointsOfSae.size, live: resultsFeed.live, listenerPid: resultsFeed.backendPid }),
    async close() {
      await ws.dispose();
      await apollo.stop();
      await resultsFeed.close();
    },
  };
}
