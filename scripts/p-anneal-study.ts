/**
 * Why did p-annealing not beat Standard coverage in the `small` reproduction (issue 16)? Train both
 * on the reproduction's Othello activations with the same penalties (the paper's ranges, 4 values
 * each, plus a wider p-anneal range reaching Standard's L0), at the small run's token budget and at
 * 4× it, and compare board-state coverage and reconstruction at matched L0. Writes
 * docs/p-anneal-study.md from what the runs print (nothing typed by hand).
 *   npx tsx scripts/p-anneal-study.ts [--root .saeboard/reproduce/small/othello] [--out .saeboard/p-anneal-study] [--steps 600,2400]
 * Needs `saeboard reproduce --game othello --scale small` first (its activations and dataset). ~15 min on 2 cores.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/version.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const root = path.resolve(arg('root', path.join(PROJECT_ROOT, '.saeboard/reproduce/small/othello')));
const out = path.resolve(arg('out', path.join(PROJECT_ROOT, '.saeboard/p-anneal-study')));
const budgets = arg('steps', '600,2400').split(',').map(Number);
const acts = path.join(root, 'activations/othello-board');
const evalData = path.join(root, 'data/eval');
if (!existsSync(acts) || !existsSync(evalData)) throw new Error(`no reproduction data under ${root}: run \`saeboard reproduce --game othello --scale small\` first`);

const cli = (args: string[]) => execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/saeboard.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, DATABASE_URL: '' }, stdio: ['ignore', 'pipe', 'inherit'] });

// Standard and p-anneal over the paper's Othello ranges (trainers.md §6), and p-anneal over a wider
// range (its Lp^p penalty at p < 1 leaves L0 higher than L1 does at the same λ).
const trainers = [
  { trainer: 'standard', expansion: 4, l1Penalty: { linspace: [0.035, 0.08, 4] } },
  { trainer: 'p_anneal', expansion: 4, initialSparsityPenalty: { linspace: [0.025, 0.05, 4] } },
  { trainer: 'p_anneal', expansion: 4, initialSparsityPenalty: { values: [0.1, 0.2] } },
];

interface Row {
  steps: number;
  trainer: string;
  penalty: number;
  finalP: number | null;
  l0: number;
  coverage: number;
  reconstruction: number;
}
const rows: Row[] = [];
mkdirSync(out, { recursive: true });
for (const steps of budgets) {
  const dir = path.join(out, `steps-${steps}`);
  const config = { name: `p-anneal-study-${steps}`, seed: 42, batchSize: 512, source: { type: 'activations', path: acts, repeat: true }, defaults: { seed: 42, steps }, checkpoints: { logSpaced: false, steps: [] }, trainers };
  const configFile = path.join(out, `sweep-${steps}.json`);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  process.stderr.write(`p-anneal study: ${steps} steps\n`);
  cli(['sae', 'sweep', '--config', configFile, '--out', dir, '--no-progress', '--no-register']);
  const saes = sweepTrainers(dir);
  const finals = saes.map((t) => path.join(dir, t, 'final'));
  const metrics = cli(['sae', 'metrics', ...finals, '--activations', acts, '--loss-contexts', '0', '--json', '--no-register'])
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { metrics: { l0: number } }).metrics);
  const evals = JSON.parse(cli(['eval', '--sae', ...finals, '--dataset', evalData, '--bsp', 'board_state', '--train-games', '100', '--test-games', '100', '--no-db', '--json'])) as { families: { shortName: string; coverage: number; reconstruction: number | null }[] }[];
  saes.forEach((t, i) => {
    const cfg = JSON.parse(readFileSync(path.join(finals[i], 'config.json'), 'utf8')) as { trainer: { trainer: string; l1Penalty?: number; initialSparsityPenalty?: number } };
    const fam = evals[i].families.find((f) => f.shortName === 'board_state')!;
    rows.push({
      steps,
      trainer: cfg.trainer.trainer,
      penalty: cfg.trainer.l1Penalty ?? cfg.trainer.initialSparsityPenalty ?? NaN,
      finalP: lastP(path.join(dir, t, 'log.jsonl')),
      l0: metrics[i].l0,
      coverage: fam.coverage,
      reconstruction: fam.reconstruction ?? 0,
    });
  });
}

/** The sweep's SAEs, trainer0 … trainerN−1 in grid order. */
function sweepTrainers(dir: string): string[] {
  const found: string[] = [];
  for (let i = 0; existsSync(path.join(dir, `trainer${i}`)); i++) found.push(`trainer${i}`);
  return found;
}

function lastP(logFile: string): number | null {
  if (!existsSync(logFile)) return null;
  const lines = readFileSync(logFile, 'utf8').trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const p = (JSON.parse(lines[i]) as { p?: number }).p;
    if (typeof p === 'number') return p;
  }
  return null;
}

const f3 = (x: number) => x.toFixed(3);
const best = (steps: number, trainer: string, key: 'coverage' | 'reconstruction') => rows.filter((r) => r.steps === steps && r.trainer === trainer).reduce((a, r) => (r[key] > a[key] ? r : a));
let md = `# p-annealing against Standard on the reproduction's Othello activations

Generated by \`npx tsx scripts/p-anneal-study.ts\` (inputs: the \`--scale small\` reproduction's activations of \`othello-board\` block 5 and its 100 + 100 evaluation games). Every SAE: expansion 4 (1,280 features), batch 512, seed 42; Standard λ = linspace(0.035, 0.08, 4) and p-anneal λ₀ = linspace(0.025, 0.05, 4) (the paper's Othello ranges) plus λ₀ ∈ {0.1, 0.2}. The p schedule is the paper's scaled to the run (p = 1 until 10,000/36,621 of the steps, then 9 drops towards 0.2); "final p" is the last p the trainer logged.

| steps | tokens | trainer | λ (λ₀) | final p | L0 | coverage | reconstruction |
| --- | --- | --- | --- | --- | --- | --- | --- |
`;
for (const r of rows) md += `| ${r.steps} | ${(r.steps * 512).toLocaleString('en-US')} | ${r.trainer} | ${r.penalty.toFixed(3)} | ${r.finalP === null ? '—' : r.finalP.toFixed(3)} | ${r.l0.toFixed(1)} | ${f3(r.coverage)} | ${f3(r.reconstruction)} |\n`;
md += `\nBest per budget (board-state coverage / reconstruction, L0 there):\n\n`;
for (const steps of budgets) {
  const s = best(steps, 'standard', 'coverage');
  const p = best(steps, 'p_anneal', 'coverage');
  const sr = best(steps, 'standard', 'reconstruction');
  const pr = best(steps, 'p_anneal', 'reconstruction');
  md += `- ${steps} steps: coverage Standard ${f3(s.coverage)} (L0 ${s.l0.toFixed(1)}) vs p-anneal ${f3(p.coverage)} (L0 ${p.l0.toFixed(1)}) — ${p.coverage > s.coverage ? 'p-anneal higher' : 'Standard higher or equal'}; reconstruction Standard ${f3(sr.reconstruction)} vs p-anneal ${f3(pr.reconstruction)}.\n`;
}
writeFileSync(path.join(PROJECT_ROOT, 'docs/p-anneal-study.md'), md);
process.stdout.write(md);
