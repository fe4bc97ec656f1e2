import cliProgress from 'cli-progress';

export interface Progress {
  /** Advance by `n` units; `extra` values are shown next to the bar (e.g. loss, L0). */
  tick(n?: number, extra?: Record<string, string | number>): void;
  /** Set the absolute position. */
  update(value: number, extra?: Record<string, string | number>): void;
  /**
   * Work resumed from `value` (e.g. tokens seen before a restart): rate and ETA count only what
   * this run does. Call before the first tick/update.
   */
  resumeAt(value: number): void;
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  /** Unit name for the rate, e.g. "games", "tok", "steps". */
  unit?: string;
  /** Force on/off; default: on when stderr is a TTY and not under test. */
  enabled?: boolean;
}

function formatExtra(extra: Record<string, string | number> | undefined): string {
  if (!extra) return '';
  return Object.entries(extra)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? formatNumber(v) : v}`)
    .join(' ');
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  if (Number.isInteger(v)) return String(v);
  return v.toPrecision(4);
}

/**
 * A progress bar on stderr with rate and ETA. When stderr is not a TTY (CI, pipes, log files) it
 * prints one plain line every ~10 s instead, so long jobs stay observable without control codes.
 */
export function progress(opts: ProgressOptions): Progress {
  const unit = opts.unit ?? 'it';
  const enabled = opts.enabled ?? (Boolean(process.stderr.isTTY) && !process.env.VITEST);
  const start = Date.now();
  let value = 0;
  let baseline = 0;
  let extraText = '';
  const rate = () => (value - baseline) / Math.max((Date.now() - start) / 1000, 1e-9);
  // the same bookkeeping for both modes; `show` renders (TTY) or maybe prints a line (plain)
  const handle = (show: () => void, stop: () => void): Progress => ({
    resumeAt(v) {
      baseline = value = v;
    },
    tick(n = 1, extra) {
      value += n;
      if (extra) extraText = formatExtra(extra);
      show();
    },
    update(v, extra) {
      value = v;
      if (extra) extraText = formatExtra(extra);
      show();
    },
    stop,
  });

  if (enabled) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${opts.label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted} {extra}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    // started at the first render, so that resumeAt() can set where the ETA's history begins
    let started = false;
    const render = () => {
      if (!started) {
        started = true;
        bar.start(opts.total, baseline, { rate: '0', extra: '' });
      }
      bar.update(value, { rate: formatNumber(rate()), extra: extraText });
    };
    return handle(render, () => {
      render();
      bar.stop();
    });
  }

  const quiet = Boolean(process.env.VITEST) && opts.enabled === undefined;
  let lastPrint = start;
  const line = (final: boolean) => {
    if (quiet) return;
    const pct = opts.total > 0 ? ((100 * value) / opts.total).toFixed(1) : '?';
    process.stderr.write(
      `${opts.label}: ${value}/${opts.total} ${unit} (${pct}%) ${formatNumber(rate())} ${unit}/s${final ? ' done' : ''} ${extraText}\n`,
    );
  };
  const maybePrint = () => {
    const now = Date.now();
    if (now - lastPrint >= 10_000) {
      lastPrint = now;
      line(false);
    }
  };
  return handle(maybePrint, () => line(true));
}
