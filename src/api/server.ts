/**
 * The HTTP server: Apollo Server 5 on plain node:http (no framework), serving
 * - POST/GET /graphql — the API,
 * - GET /healthz — liveness for load balancers and compose health checks,
 * - later, the web dashboard's static files.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type pg from 'pg';
import { log } from '../log.js';
import { appSchema } from './schema.js';
import { createContext, type Context } from './context.js';
import { formatError } from './errors.js';

const MAX_BODY_BYTES = 1 << 20;

export interface ServerOptions {
  pool: pg.Pool;
  port?: number;
  host?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  httpServer: http.Server;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, message: string, code = 'BAD_REQUEST'): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const httpServer = http.createServer();
  const apollo = new ApolloServer<Context>({
    schema: appSchema(),
    formatError,
    includeStacktraceInErrorResponses: Boolean(process.env.SAEBOARD_DEBUG) && process.env.NODE_ENV !== 'production',
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();

  async function handleGraphQL(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    let body: unknown;
    if (req.method === 'POST') {
      const text = await readBody(req);
      const type = headers.get('content-type') ?? '';
      if (type.includes('application/json')) {
        try {
          body = text.length ? JSON.parse(text) : undefined;
        } catch {
          return sendError(res, 400, 'request body is not valid JSON');
        }
      } else {
        body = text;
      }
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      headers,
      search: url.search,
      body,
    };
    const requestId = randomUUID();
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: async () => createContext(opts.pool, requestId),
    });
    for (const [key, value] of result.headers) res.setHeader(key, value);
    res.setHeader('x-request-id', requestId);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  httpServer.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const done = (err?: unknown) => {
      if (!err) return;
      if (err instanceof HttpError) return sendError(res, err.status, err.message);
      log.error({ err }, 'unhandled error in HTTP handler');
      if (!res.headersSent) sendError(res, 500, 'Internal server error', 'INTERNAL_SERVER_ERROR');
      else res.end();
    };
    if (url.pathname === '/graphql') {
      handleGraphQL(req, res, url).then(() => done(), done);
    } else if (url.pathname === '/healthz') {
      opts.pool.query('SELECT 1').then(
        () => sendJson(res, 200, { ok: true }),
        () => sendJson(res, 503, { ok: false, database: false }),
      );
    } else {
      sendError(res, 404, `no route ${url.pathname}; the API is at /graphql`, 'NOT_FOUND');
    }
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
  return {
    url: `http://${shownHost}:${port}/graphql`,
    port,
    httpServer,
    async close() {
      await apollo.stop();
    },
  };
}
