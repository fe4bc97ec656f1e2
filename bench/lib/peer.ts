/**
 * A peer benchmark process (PyTorch via /usr/bin/python3) driven one repetition at a time, so that
 * `Bench.compare` can interleave it with our side (A, B, A, B, …) in one run.
 *
 * Protocol: JSON lines. We write a request per line; the peer answers each with exactly one JSON
 * line. `{"setup": {...}}` builds a case (answer: `{"ready": true, ...meta}`), `{"step": true}` runs
 * one repetition of it (answer: `{"ms": <its own timing>}`), end of stdin ends the peer. An answer
 * with `"error"` rejects the request.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export class PeerProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  private stderr = '';
  private exited: Error | null = null;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-4000);
    });
    const fail = (e: Error) => {
      this.exited = e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    this.child.on('error', (e) => fail(e));
    this.child.on('exit', (code, signal) => {
      const last = this.stderr.trim().split('\n').pop() ?? '';
      fail(new Error(`peer ${command} exited (${signal ?? code})${last ? `: ${last}` : ''}`));
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const w = this.waiting.shift();
      if (!w) return;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        w.reject(new Error(`peer answered something that is not JSON: ${line.slice(0, 200)}`));
        return;
      }
      if (typeof msg.error === 'string') w.reject(new Error(`peer: ${msg.error}`));
      else w.resolve(msg);
    });
  }

  request(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(JSON.stringify(msg) + '\n');
    });
  }

  /** Builds a case on the peer; resolves with its metadata (versions, threads). */
  setup(c: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.request({ setup: c });
  }

  /** One repetition of the current case; resolves with the peer's own timing in ms. */
  async step(): Promise<number> {
    const r = await this.request({ step: true });
    if (typeof r.ms !== 'number') throw new Error('peer step answered without "ms"');
    return r.ms;
  }

  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }
}

/**
 * The Python peer script `script` in serve mode (/usr/bin/python3 `script` --serve …), or null (with
 * the reason) when it cannot start; `what` names its requirement in that reason.
 */
export async function startPythonPeer(
  script: string,
  args: string[] = [],
  what = '/usr/bin/python3',
): Promise<{ peer: PeerProcess | null; error: string | null }> {
  const peer = new PeerProcess('/usr/bin/python3', [script, '--serve', ...args]);
  try {
    await peer.request({ hello: true });
    return { peer, error: null };
  } catch (err) {
    await peer.close().catch(() => undefined);
    return { peer: null, error: `could not run the peer (${what}): ${(err as Error).message.split('\n')[0]}` };
  }
}

/** The PyTorch peer script `script` in serve mode, or null (with the reason) when it cannot start. */
export async function startTorchPeer(script: string, args: string[] = []): Promise<{ peer: PeerProcess | null; error: string | null }> {
  const started = await startPythonPeer(script, args, '/usr/bin/python3 with python3-torch');
  return started.error ? { peer: null, error: started.error.replace('could not run the peer', 'could not run the PyTorch peer') } : started;
}
