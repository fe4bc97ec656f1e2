/**
 * SIGINT/SIGTERM for every command, in one place. By default an interrupt removes the temporaries
 * of the atomic writers (src/util/atomic.ts) and exits 130 (SIGINT) or 143 (SIGTERM), so a
 * Ctrl-C during `games generate` or `lm activations` leaves nothing behind. Commands that stop
 * gracefully (sweeps and LM training write a resume point, the server closes its connections)
 * claim the signal with onInterrupt() for as long as they run; a process.exit from anywhere still
 * removes what is in flight, through the `exit` listener.
 */
import { removeLiveTempsSync } from '../util/atomic.js';

type Handler = (signal: NodeJS.Signals) => void;

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
const handlers: Handler[] = [];
let installed = false;

export function exitCodeFor(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? 143 : 130;
}

/** Remove in-flight temporaries, print one line and exit with the signal's code. */
export function exitInterrupted(signal: NodeJS.Signals, what?: string): never {
  const removed = removeLiveTempsSync();
  const detail = what ?? (removed ? 'removed its unfinished files' : 'nothing was left half-written');
  process.stderr.write(`\nsaeboard: interrupted (${signal}); ${detail}\n`);
  process.exit(exitCodeFor(signal));
}

function dispatch(signal: NodeJS.Signals): void {
  const top = handlers[handlers.length - 1];
  if (top) top(signal);
  else exitInterrupted(signal);
}

/** Install the handlers (once, from the CLI's main). */
export function installInterruptHandling(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, dispatch);
  process.on('exit', () => {
    removeLiveTempsSync();
  });
}

/**
 * Handle SIGINT/SIGTERM yourself until the returned function is called (the latest claim wins).
 * The handler decides when to exit; exitInterrupted() is the way to stop at once.
 */
export function onInterrupt(handler: Handler): () => void {
  installInterruptHandling();
  handlers.push(handler);
  return () => {
    const i = handlers.lastIndexOf(handler);
    if (i >= 0) handlers.splice(i, 1);
  };
}
