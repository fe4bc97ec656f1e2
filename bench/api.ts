/**
 * GraphQL API latency and throughput over real HTTP against a scratch database.
 *   npm run bench -- api [--requests 2000] [--concurrency 8]
 */
import type { Bench } from './harness.js';
import { startServer } from '../src/api/server.js';
import { initBackend } from '../src/tensor/backend.js';
import { scratchDatabase } from './lib/scratch-db.js';

const QUERIES: Record<string, string> = {
  health: '{ health }',
  'games+counts': '{ games { id vocabSize datasetCount boardPropertyCount lmModelCount } }',
};

export default async function (h: Bench): Promise<void> {
  const total = Number(h.option('requests', '2000'));
  const concurrency = Number(h.option('concurrency', '8'));
  const db = await scratchDatabase();
  await initBackend();
  // One client address sends thousands of requests a minute here: the per-IP rate limit (on by
  // default) would answer 429, so it is off; every other guard stays as served.
  const server = await startServer({ pool: db.pool, port: 0, rateLimit: { perIpPerMinute: 0, perKeyPerMinute: 0 } });
  try {
    for (const [name, query] of Object.entries(QUERIES)) {
      const body = JSON.stringify({ query });
      const once = async () => {
        const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        await res.text();
      };
      for (let i = 0; i < 50; i++) await once(); // warm-up
      const latencies: number[] = [];
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < total) {
            next++;
            const s = performance.now();
            await once();
            latencies.push(performance.now() - s);
          }
        }),
      );
      const wall = (performance.now() - t0) / 1000;
      latencies.sort((a, b) => a - b);
      const q = (p: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2));
      h.record(name, { server: db.server, requests: latencies.length, concurrency, reqPerSec: Math.round(latencies.length / wall), p50Ms: q(0.5), p99Ms: q(0.99) });
    }
  } finally {
    await server.close();
    await db.close();
  }
}
