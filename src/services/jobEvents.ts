/**
 * Job changes as they happen: one LISTEN connection per process on channel saeboard_jobs
 * (migration 0008's trigger NOTIFYs the job id on every insert and update), fanned out to
 * subscribers. No polling: a subscriber waits until Postgres says something changed.
 */
import type pg from 'pg';
import { log } from '../log.js';

type Listener = (jobId: number) => void;

class JobEventHub {
  private readonly listeners = new Set<Listener>();
  private client: pg.PoolClient | null = null;
  private starting: Promise<void> | null = null;

  constructor(private readonly pool: pg.Pool) {}

  private async start(): Promise<void> {
    const client = await this.pool.connect();
    client.on('notification', (msg) => {
      const id = Number(msg.payload);
      if (Number.isFinite(id)) for (const l of this.listeners) l(id);
    });
    client.on('error', (err) => {
      log.warn({ err: err.message }, 'job event connection lost; the next subscription reconnects');
      this.client = null;
      this.starting = null;
    });
    await client.query('LISTEN saeboard_jobs');
    this.client = client;
  }

  /**
   * Job ids as they change (optionally only `jobId`). A hand-written iterator, not a generator:
   * return() must end a subscription that is waiting for the next change (a generator's return()
   * would wait for that change first).
   */
  events(jobId?: number | null): AsyncIterableIterator<number> {
    const queue: number[] = [];
    let waiting: ((r: IteratorResult<number>) => void) | null = null;
    let done = false;
    const listener: Listener = (id) => {
      if (done || (jobId != null && id !== jobId)) return;
      if (waiting) {
        const w = waiting;
        waiting = null;
        w({ value: id, done: false });
      } else if (!queue.includes(id) && queue.length < 1000) queue.push(id); // coalesce bursts of one job
    };
    this.listeners.add(listener);
    this.starting ??= this.start();
    const ready = this.starting;
    const finish = async (): Promise<IteratorResult<number>> => {
      if (!done) {
        done = true;
        this.listeners.delete(listener);
        waiting?.({ value: undefined, done: true });
        waiting = null;
        await this.stopIfIdle();
      }
      return { value: undefined, done: true };
    };
    return {
      next: async () => {
        await ready;
        if (done) return { value: undefined, done: true };
        if (queue.length) return { value: queue.shift()!, done: false };
        return new Promise((resolve) => (waiting = resolve));
      },
      return: finish,
      throw: async (err) => {
        await finish();
        throw err;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  private async stopIfIdle(): Promise<void> {
    await this.starting?.catch(() => {}); // a connection still being made is released too
    if (this.listeners.size || !this.client) return;
    const c = this.client;
    this.client = null;
    this.starting = null;
    await c.query('UNLISTEN saeboard_jobs').catch(() => {});
    c.release();
  }
}

const hubs = new WeakMap<pg.Pool, JobEventHub>();

export function jobEvents(pool: pg.Pool): JobEventHub {
  let hub = hubs.get(pool);
  if (!hub) hubs.set(pool, (hub = new JobEventHub(pool)));
  return hub;
}
