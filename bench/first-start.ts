/**
 * First start, as a new user has it: `npm start` with no DATABASE_URL on an empty SAEBOARD_HOME
 * (embedded Postgres created, migrations, catalogue, the seed pipeline queued and run by the
 * in-process worker). Times (a) until the API answers, (b) until evaluated SAEs of at least three
 * trainers are queryable through GraphQL, then (c) a restart on the same home until it answers.
 * Goals (issue 14): (a) < 5 s, (b) < 120 s, (c) < 5 s. A run is marked `loaded` when the 1-minute
 * load average exceeded 1.5 on this 2-core machine at any check.
 *
 *   npm run bench -- first-start [--via npm|built|tsx] [--seed-size default|tiny] [--timeout 600]
 *
 * --via npm (default): exactly `npm start -- --port P` (its prestart rebuilds dist/ when stale);
 * built: `node bin/saeboard.js serve` (dist/ must be built); tsx: the TypeScript sources, no build.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Bench } from './harness.js';
import { PROJECT_ROOT } from '../src/version.js';

const LOADED_AT = 1.5;
const GOALS = { answerS: 5, threeTrainersS: 120, restartAnswerS: 5 };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function command(via: string, port: number, seedSize: string): [string, string[]] {
  const serve = ['--port', String(port), '--seed-size', seedSize];
  if (via === 'npm') return ['npm', ['start', '--silent', '--', ...serve]];
  if (via === 'built') return [process.execPath, [path.join(PROJECT_ROOT, 'bin/saeboard.js'), 'serve', ...serve]];
  if (via === 'tsx') return [process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'serve', ...serve]];
  throw new Error(`--via must be npm, built or tsx, not ${via}`);
}

async function graphql(url: string, query: string): Promise<any | null> {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }), signal: AbortSignal.timeout(5000) });
    if (!res.ok) return null;
    const body = (await res.json()) as { data?: unknown; errors?: unknown[] };
    return body.errors?.length ? null : (body.data ?? null);
  } catch {
    return null;
  }
}

/** Trainers with at least one evaluated checkpoint, as the API serves them. */
async function evaluatedTrainers(url: string): Promise<string[]> {
  const data = await graphql(url, '{ saes(first: 100) { edges { node { trainer checkpoints { evaluations { id } } } } } }');
  if (!data) return [];
  const trainers = new Set<string>();
  for (const e of data.saes.edges as { node: { trainer: string; checkpoints: { evaluations: unknown[] }[] } }[]) {
    if (e.node.checkpoints.some((c) => c.evaluations.length > 0)) trainers.add(e.node.trainer);
  }
  return [...trainers].sort();
}

async function until<T>(what: string, timeoutS: number, child: ChildProcess, fn: () => Promise<T | null>, everyMs = 100): Promise<T> {
  const t0 = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (code ${child.exitCode}) before ${what}`);
    const v = await fn();
    if (v !== null) return v;
    if (performance.now() - t0 > timeoutS * 1000) throw new Error(`no ${what} within ${timeoutS} s`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // npm start runs the server in its own child: signal the whole process group.
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, 30_000);
  await exited;
  // npm exits before the server it started has shut down: wait until the whole process group is
  // gone, as a user's terminal does before the next `npm start`.
  for (let i = 0; i < 300; i++) {
    try {
      process.kill(-child.pid!, 0);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  clearTimeout(timer);
}

export default async function firstStart(h: Bench): Promise<void> {
  const via = h.option('via', 'npm');
  const seedSize = h.option('seed-size', 'default');
  const timeoutS = Number(h.option('timeout', '600'));
  const home = mkdtempSync(path.join(os.tmpdir(), 'saeboard-first-start-'));
  const env = { ...process.env, SAEBOARD_HOME: home, SAEBOARD_LOG_FORMAT: 'json' } as NodeJS.ProcessEnv;
  delete env.DATABASE_URL; // the embedded Postgres, as on a fresh machine
  const loads: number[] = [os.loadavg()[0]];
  const children: ChildProcess[] = [];
  const start = async (label: string) => {
    const port = await freePort();
    const [cmd, args] = command(via, port, seedSize);
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    child.stderr!.pipe(createWriteStream(path.join(home, `${label}.log`)));
    children.push(child);
    return { child, t0, url: `http://127.0.0.1:${port}/graphql` };
  };
  try {
    const first = await start('first');
    await until('GraphQL answer', timeoutS, first.child, async () => ((await graphql(first.url, '{ __typename }')) ? true : null), 50);
    const answerS = (performance.now() - first.t0) / 1000;
    loads.push(os.loadavg()[0]);
    const trainers = await until('evaluated SAEs of three trainers', timeoutS, first.child, async () => {
      const t = await evaluatedTrainers(first.url);
      return t.length >= 3 ? t : null;
    }, 1000);
    const threeTrainersS = (performance.now() - first.t0) / 1000;
    loads.push(os.loadavg()[0]);
    await stop(first.child);

    const again = await start('restart');
    await until('GraphQL answer after a restart', timeoutS, again.child, async () => ((await graphql(again.url, '{ __typename }')) ? true : null), 50);
    const restartAnswerS = (performance.now() - again.t0) / 1000;
    loads.push(os.loadavg()[0]);
    await stop(again.child);

    const round = (x: number) => Number(x.toFixed(2));
    const figures = { answerS: round(answerS), threeTrainersS: round(threeTrainersS), restartAnswerS: round(restartAnswerS) };
    h.record('first-start', {
      via,
      seedSize,
      ...figures,
      trainers,
      goals: GOALS,
      goalsMet: Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, v < GOALS[k as keyof typeof GOALS]])),
      load1: loads.map(round),
      // The seed pipeline keeps both cores busy by itself (and runs in processes this one does not
      // reap), so only the load before the first start says whether others were running.
      loaded: loads[0] > LOADED_AT,
      othersCores: null,
    });
  } catch (err) {
    const logs = path.join(os.tmpdir(), `saeboard-first-start-${process.pid}.log`);
    await import('node:fs').then((fs) => fs.cpSync(path.join(home, 'first.log'), logs));
    throw new Error(`${err instanceof Error ? err.message : String(err)} (server log: ${logs})`);
  } finally {
    for (const c of children) await stop(c);
    rmSync(home, { recursive: true, force: true });
  }
}
