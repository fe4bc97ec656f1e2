/**
 * The load generator of bench/api-scale, run as a SECOND process (so its event loop and CPU are not
 * the server's): one autocannon instance per query kind, all at once, each at a fixed rate
 * (`overallRate`), the rates summing to the total. Reads its plan from the JSON file named by argv[2], prints one
 * JSON object (per kind: latency percentiles, errors, non-2xx, GraphQL errors, throughput) on stdout.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface LoadPlan {
  url: string;
  seconds: number;
  kinds: { name: string; rate: number; connections: number; bodies: string[] }[];
}

export interface KindResult {
  name: string;
  rate: number;
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  graphqlErrors: number;
  firstGraphqlError: string | null;
}

interface AutocannonResult {
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
  requests: { total: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest) => AutocannonRequest;
  onResponse?: (status: number, body: string) => void;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

async function runKind(plan: LoadPlan, kind: LoadPlan['kinds'][number]): Promise<KindResult> {
  let next = 0;
  let graphqlErrors = 0;
  let firstGraphqlError: string | null = null;
  const u = new URL(plan.url);
  const request: AutocannonRequest = {
    method: 'POST',
    path: u.pathname,
    headers: { 'content-type': 'application/json' },
    setupRequest: (req) => ({ ...req, body: kind.bodies[next++ % kind.bodies.length] }),
    onResponse: (status, body) => {
      if (status === 200 && body.includes('"errors"')) {
        graphqlErrors++;
        firstGraphqlError ??= body.slice(0, 300);
      }
    },
  };
  const r = await autocannon({
    url: u.origin,
    connections: kind.connections,
    overallRate: kind.rate,
    duration: plan.seconds,
    timeout: 10,
    requests: [request],
  });
  return {
    name: kind.name,
    rate: kind.rate,
    requests: r.requests.total,
    reqPerSec: Number((r.requests.total / plan.seconds).toFixed(1)),
    p50Ms: r.latency.p50,
    p90Ms: r.latency.p90,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    meanMs: Number(r.latency.average.toFixed(2)),
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    graphqlErrors,
    firstGraphqlError,
  };
}

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8')) as LoadPlan;
const results = await Promise.all(plan.kinds.map((k) => runKind(plan, k)));
process.stdout.write(JSON.stringify(results) + '\n');
