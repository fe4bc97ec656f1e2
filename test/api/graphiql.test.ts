/**
 * GraphiQL, bundled by scripts/build-graphiql.mjs (part of `npm run build`), served at GET /graphql
 * to browsers with every asset from this server (no CDN), and rendered by a real headless Chromium
 * (Debian's `chromium`, which .ci/run installs) under the page's Content-Security-Policy.
 */
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

function findChromium(): string | null {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {
      // not this one
    }
  }
  return null;
}
const chromium = findChromium();

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('GraphiQL', () => {
  let db: TestDatabase;
  let server: RunningServer;
  let base: string;
  beforeAll(async () => {
    await promisify(execFile)(process.execPath, [path.join(PROJECT_ROOT, 'scripts/build-graphiql.mjs')], { cwd: PROJECT_ROOT, timeout: 120_000 });
    db = await createTestDatabase();
    server = await startServer({ pool: db.pool, port: 0, requireKey: true });
    base = server.url.replace('/graphql', '');
  });
  afterAll(async () => {
    await server.close();
    await db.drop();
  });

  it('serves the page to a browser at /graphql (no key needed for the page itself), every asset from this origin', async () => {
    const page = await fetch(server.url, { headers: { accept: BROWSER_ACCEPT } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const html = await page.text();
    expect(html).toContain('<div id="graphiql">');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets.sort()).toEqual(['/graphiql/graphiql.css', '/graphiql/graphiql.js']);

    const js = await fetch(`${base}/graphiql/graphiql.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const code = await js.text();
    expect(code.length).toBeGreaterThan(100_000); // React + GraphiQL, bundled
    expect(code).toContain('/graphql');
    expect(code).not.toMatch(/(unpkg\.com|cdn\.jsdelivr|esm\.sh|cdnjs)/);
    const css = await (await fetch(`${base}/graphiql/graphiql.css`)).text();
    expect(css).toContain('.graphiql-container');
    // Fonts are inlined; nothing is imported from elsewhere.
    expect(css).not.toMatch(/@import|url\(\s*["']?(https?:)?\/\//);
  });

  it.skipIf(!chromium)('renders in headless Chromium and loads the schema from this server', async () => {
    const open = await startServer({ pool: db.pool, port: 0 });
    const seen: string[] = [];
    open.httpServer.on('request', (req) => seen.push(`${req.method} ${req.url}`));
    try {
      const { stdout: dom } = await promisify(execFile)(
        chromium!,
        ['--headless', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=10000', '--dump-dom', open.url],
        { timeout: 60_000, maxBuffer: 16 << 20 },
      );
      expect(dom).toContain('graphiql-container');
      expect(dom).toContain('graphiql-execute-button');
      expect(dom).toContain('saeboard GraphQL API'); // our default query in the editor
      // The page, its two assets, and GraphiQL's introspection POST: nothing from anywhere else.
      expect(seen).toEqual(expect.arrayContaining(['GET /graphql', 'GET /graphiql/graphiql.js', 'GET /graphiql/graphiql.css', 'POST /graphql']));
    } finally {
      await open.close();
    }
  });

  it('still answers API clients at /graphql, and refuses other files', async () => {
    const query = await fetch(`${server.url}?query=${encodeURIComponent('{ health }')}`, { headers: { accept: BROWSER_ACCEPT } });
    expect(query.status).toBe(401); // a query is an API request: the key is required
    const post = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/html' }, body: '{"query":"{ health }"}' });
    expect(post.status).toBe(401);
    for (const file of ['../../package.json', '..%2F..%2Fpackage.json', 'index.js']) {
      const res = await fetch(`${base}/graphiql/${file}`);
      expect(res.status, file).toBe(404);
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('NOT_FOUND');
    }
  });
});
