/**
 * bench/lib/load-driver.ts, the open-loop load generator of bench/api-scale: it keeps sending at
 * the planned rate while the server stalls, and counts each request's latency from its scheduled
 * time, so a stall shows in the figures (no coordinated omission).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drive } from '../../bench/lib/load-driver.js';

// A server in its own process that answers at once, except that its event loop blocks for 400 ms
// once, 1.2 s after it starts listening; body "fail" gets a GraphQL error.
const SERVER = `
const http = require('node:http');
const s = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(body.includes('fail') ? '{"errors":[{"message":"no"}]}' : '{"data":{"ok":true}}');
  });
});
s.listen(0, '127.0.0.1', () => {
  process.stdout.write(String(s.address().port) + '\\n');
  setTimeout(() => { const until = Date.now() + 400; while (Date.now() < until); }, 1200);
});`;

let server: ChildProcess;
let url: string;

beforeAll(async () => {
  server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(server.stdout!, 'data')) as [Buffer];
  url = `http://127.0.0.1:${chunk.toString().trim()}/graphql`;
});

afterAll(() => {
  server?.kill();
});

describe('the load driver', () => {
  it('sends at the planned rate through a server stall and counts the stall in the latencies', async () => {
    const t0 = Date.now();
    const { kinds, sent, driverPauses } = await drive({
      url,
      seconds: 2,
      warmupSeconds: 0.5,
      seed: 3,
      kinds: [
        { name: 'ok', rate: 100, connections: 4, bodies: ['{"query":"{ ok }"}'] },
        { name: 'failing', rate: 20, connections: 2, bodies: ['{"query":"fail"}'] },
      ],
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2400);
    const [ok, failing] = kinds;
    // Poisson arrivals at 100/s for 2 s: 200 expected (±5 σ ≈ ±70); the warm-up is not counted.
    expect(ok.requests).toBeGreaterThan(130);
    expect(ok.requests).toBeLessThan(270);
    expect(sent).toBeGreaterThan(ok.requests + failing.requests);
    expect([ok.errors, ok.timeouts, ok.non2xx, ok.graphqlErrors]).toEqual([0, 0, 0, 0]);
    // Requests scheduled while the server was blocked waited for it, from their scheduled time on:
    // a closed-loop client would have stopped sending and reported fast answers only.
    // The stall is a fifth of the window: about a fifth of the requests waited (a closed-loop
    // client with 4 connections would have had at most 4 waiting).
    expect(ok.maxMs).toBeGreaterThan(250);
    expect(ok.p90Ms).toBeGreaterThan(50);
    expect(ok.p50Ms).toBeLessThan(50);
    expect(Math.max(...ok.maxMsPerSecond)).toBe(Math.round(ok.maxMs));
    expect(ok.maxMsPerSecond).toHaveLength(2);
    // Answers with GraphQL errors are counted as such, with the first one kept.
    expect(failing.graphqlErrors).toBe(failing.requests);
    expect(failing.firstGraphqlError).toContain('"errors"');
    // The driver's own pauses are measured too (they would count in every latency).
    expect(driverPauses.loopDelayMaxMs).toBeGreaterThan(0);
    expect(driverPauses.gcPauses).toBeGreaterThanOrEqual(0);
  }, 20_000);
});
