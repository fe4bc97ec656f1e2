/**
 * Plain hand-written SVG charts (no browser, no plotting library): scatter/line charts with one
 * `<g class="series" data-series="…">` per series, and grouped bar charts. Valid standalone XML.
 */

export interface Series {
  name: string;
  points: { x: number; y: number; label?: string }[];
  /** Join the points (sorted by x) with a line. */
  line?: boolean;
  /** Several separate lines in one series (e.g. one per SAE of a trainer). */
  lines?: { x: number; y: number }[][];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#7f7f7f', '#17becf', '#bcbd22'];
const W = 640;
const H = 400;
const M = { left: 64, right: 170, top: 36, bottom: 52 };

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Ticks of a log axis given log10 bounds: 1, 10, 100, … and, over less than two decades, 2 and 5 between. */
function logTicks(l0: number, l1: number): number[] {
  const mult = l1 - l0 < 2 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) for (const m of mult) {
    const v = m * 10 ** e;
    if (Math.log10(v) >= l0 - 1e-9 && Math.log10(v) <= l1 + 1e-9) out.push(v);
  }
  return out;
}

function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000 || a < 0.01) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

export function lineChart(o: { title: string; xLabel: string; yLabel: string; xLog?: boolean; yRange?: [number, number]; series: Series[] }): string {
  const tx = (x: number) => (o.xLog ? Math.log10(Math.max(x, 1e-3)) : x);
  const all = o.series.flatMap((s) => [...s.points, ...(s.lines ?? []).flat()]).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  let x0 = Math.min(...all.map((p) => tx(p.x)));
  let x1 = Math.max(...all.map((p) => tx(p.x)));
  let [y0, y1] = o.yRange ?? [Math.min(...all.map((p) => p.y)), Math.max(...all.map((p) => p.y))];
  if (!all.length) [x0, x1, y0, y1] = [0, 1, 0, 1];
  if (x1 - x0 < 1e-9) [x0, x1] = [x0 - 0.5, x1 + 0.5];
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.05, y1 + 0.05];
  // a margin so no point sits on the frame
  [x0, x1] = [x0 - 0.04 * (x1 - x0), x1 + 0.04 * (x1 - x0)];
  if (!o.yRange) [y0, y1] = [y0 - 0.05 * (y1 - y0), y1 + 0.05 * (y1 - y0)];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const px = (x: number) => M.left + ((tx(x) - x0) / (x1 - x0)) * pw;
  const py = (y: number) => M.top + (1 - (y - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  const xt = o.xLog ? logTicks(x0, x1) : niceTicks(x0, x1);
  for (const v of xt) {
    const x = px(v).toFixed(1);
    parts.push(`<line x1="${x}" y1="${M.top + ph}" x2="${x}" y2="${M.top + ph + 4}" stroke="#333"/><text x="${x}" y="${M.top + ph + 16}" font-size="11" text-anchor="middle">${tickLabel(v)}</text>`);
  }
  for (const v of niceTicks(y0, y1)) {
    const y = py(v).toFixed(1);
    parts.push(`<line x1="${M.left - 4}" y1="${y}" x2="${M.left}" y2="${y}" stroke="#333"/><text x="${M.left - 6}" y="${y}" font-size="11" text-anchor="end" dominant-baseline="middle">${tickLabel(v)}</text>`);
  }
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 12}" font-size="12" text-anchor="middle">${esc(o.xLabel)}${o.xLog ? ' (log scale)' : ''}</text>`);
  parts.push(`<text x="16" y="${M.top + ph / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${M.top + ph / 2})">${esc(o.yLabel)}</text>`);
  parts.push(`<text x="${W / 2}" y="20" font-size="14" text-anchor="middle" font-weight="bold">${esc(o.title)}</text>`);
  o.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const g: string[] = [];
    const path = (pts: { x: number; y: number }[]) =>
      `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${[...pts]
        .sort((a, b) => a.x - b.x)
        .map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`)
        .join(' ')}"/>`;
    if (s.line && s.points.length > 1) g.push(path(s.points));
    for (const l of s.lines ?? []) if (l.length > 1) g.push(path(l));
    for (const p of s.points) {
      g.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${color}" fill-opacity="0.8"><title>${esc(`${s.name}${p.label ? ` ${p.label}` : ''}: (${p.x.toPrecision(4)}, ${p.y.toPrecision(4)})`)}</title></circle>`);
    }
    const ly = M.top + 8 + i * 18;
    g.push(`<rect x="${W - M.right + 12}" y="${ly - 6}" width="12" height="12" fill="${color}"/><text x="${W - M.right + 30}" y="${ly}" font-size="12" dominant-baseline="middle">${esc(s.name)}</text>`);
    parts.push(`<g class="series" data-series="${esc(s.name)}">${g.join('')}</g>`);
  });
  return svgDoc(parts);
}

export function barChart(o: { title: string; yLabel: string; categories: string[]; series: { name: string; values: (number | null)[] }[] }): string {
  const right = 240; // the legend's labels are long
  const w = Math.max(W, M.left + 40 + o.categories.length * (12 * o.series.length + 14) + right);
  const h = H + 60;
  const pw = w - M.left - right;
  const ph = h - M.top - M.bottom - 60;
  const py = (y: number) => M.top + (1 - y) * ph;
  const parts: string[] = [`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`];
  for (const v of niceTicks(0, 1)) {
    const y = py(v).toFixed(1);
    parts.push(`<line x1="${M.left - 4}" y1="${y}" x2="${M.left}" y2="${y}" stroke="#333"/><text x="${M.left - 6}" y="${y}" font-size="11" text-anchor="end" dominant-baseline="middle">${tickLabel(v)}</text>`);
  }
  const group = pw / Math.max(1, o.categories.length);
  const bw = Math.min(14, (group - 6) / o.series.length);
  o.categories.forEach((c, j) => {
    const x = M.left + group * (j + 0.5);
    parts.push(`<text x="${x.toFixed(1)}" y="${M.top + ph + 10}" font-size="10" text-anchor="end" transform="rotate(-45 ${x.toFixed(1)} ${M.top + ph + 10})">${esc(c)}</text>`);
  });
  o.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const g: string[] = [];
    s.values.forEach((v, j) => {
      if (v === null || !Number.isFinite(v)) return;
      const x = M.left + group * (j + 0.5) - (bw * o.series.length) / 2 + i * bw;
      const y = py(Math.max(0, Math.min(1, v)));
      g.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(M.top + ph - y).toFixed(1)}" fill="${color}"><title>${esc(`${s.name} ${o.categories[j]}: ${v.toFixed(3)}`)}</title></rect>`);
    });
    const ly = M.top + 8 + i * 18;
    g.push(`<rect x="${w - right + 12}" y="${ly - 6}" width="12" height="12" fill="${color}"/><text x="${w - right + 30}" y="${ly}" font-size="12" dominant-baseline="middle">${esc(s.name)}</text>`);
    parts.push(`<g class="series" data-series="${esc(s.name)}">${g.join('')}</g>`);
  });
  parts.push(`<text x="16" y="${M.top + ph / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${M.top + ph / 2})">${esc(o.yLabel)}</text>`);
  parts.push(`<text x="${w / 2}" y="20" font-size="14" text-anchor="middle" font-weight="bold">${esc(o.title)}</text>`);
  return svgDoc(parts, w, h);
}

function svgDoc(parts: string[], w = W, h = H): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">\n<rect width="${w}" height="${h}" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
