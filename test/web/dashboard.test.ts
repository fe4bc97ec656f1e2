/// <reference lib="dom" />
/**
 * The web dashboard in a real browser: Debian's Chromium (/usr/bin/chromium, which .ci/run
 * installs) driven by playwright-core, against a real saeboard server on a database filled by the
 * project's own pipeline (tiny Othello dataset → GPT → sweep of three trainers → evaluation). The
 * app is built first (scripts/build-web.mjs) so a clean clone tests what it ships.
 *
 * Every page is opened, at laptop (1280 px) and phone (390 px) widths, checked for content against
 * what GraphQL returns, and by axe-core for serious/critical accessibility violations. Screenshots
 * go to test/artifacts/ (and, under `npm run screenshots`, to docs/img/dashboard-*.png).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium as playwright, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { createApiKey } from '../../src/services/apikeys.service.js';
import { updateProgress } from '../../src/db/repos/jobs.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { storeUnsupervisedMetrics } from '../../src/jobs/sae.js';
import { evaluateUnsupervised } from '../../src/sae/evaluate.js';
import { loadSae } from '../../src/sae/interop.js';
import { activationSetSource } from '../../src/sae/source.js';
import { makeEvaluatedDatabase, type EvaluatedDatabase } from '../helpers/evaluated-db.js';
import { makeChessDataset, makeLm, makeSae, tinyConfig } from '../eval/fixtures.js';
import { openDataset } from '../../src/games/dataset/index.js';
import { writeActivations } from '../../src/lm/activations.js';
import { loadModelDir, type CheckpointMeta } from '../../src/lm/checkpoint.js';
import { inMemorySequences } from '../../src/lm/data.js';
import { DEFAULT_TRAIN_OPTIONS, trainLm } from '../../src/lm/train.js';
import { finalDir } from '../../src/sae/checkpoint.js';
import { runSweep } from '../../src/sae/sweep.js';
import { resolveSweep } from '../../src/sae/sweepConfig.js';
import { registerSweepDir } from '../../src/jobs/sae.js';
import { registerProbeResults } from '../../src/jobs/lm.js';
import { trainLayerProbes } from '../../src/lm/probe-data.js';
import { runEvaluation } from '../../src/jobs/eval.js';

function findChromium(): string | null {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {
      // not this one
    }
  }
  return null;
}
const chromiumPath = findChromium();

const ARTIFACTS = path.join(PROJECT_ROOT, 'test', 'artifacts', 'web');
const DOCS_IMG = process.env.SAEBOARD_SCREENSHOTS ? path.join(PROJECT_ROOT, 'docs', 'img') : null;
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let env: EvaluatedDatabase;
let server: RunningServer;
let base: string;
let browser: Browser;
let context: BrowserContext;
let token: string;

async function gql(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data;
}

const fmt = (v: number | null | undefined, digits = 3) => (v == null ? '–' : Number(v).toFixed(digits));

/** Zero serious or critical axe-core violations on the page as it is now. */
async function expectAccessible(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (o: unknown) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run({
      resultTypes: ['violations'],
    });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  });
  expect(violations, `axe on ${what}`).toEqual([]);
}

/** Screenshots at laptop and phone widths; at the phone width nothing may overflow sideways. */
async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-1280.png`), fullPage: true });
  if (DOCS_IMG) {
    mkdirSync(DOCS_IMG, { recursive: true });
    await page.screenshot({ path: path.join(DOCS_IMG, `dashboard-${name}.png`), fullPage: false });
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(150);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${name} overflows sideways at 390 px`).toBeLessThanOrEqual(1);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-390.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function open(page: Page, url: string, ready: string): Promise<void> {
  await page.goto(`${base}${url}`);
  try {
    await page.waitForSelector(ready, { timeout: 20_000 });
  } catch (err) {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, `failed-${url.replace(/[^a-z0-9]+/gi, '_')}.png`), fullPage: true });
    throw new Error(`${url}: ${ready} did not appear; the page says: ${(await page.textContent('main').catch(() => null))?.slice(0, 400)}`, { cause: err });
  }
}

/** L0, variance explained (the unsupervised metrics) of checkpoints, as `saeboard sae eval` stores them. */
async function storeL0(pool: EvaluatedDatabase['db']['pool'], dirs: string[], actDir: string): Promise<void> {
  const source = await activationSetSource(actDir);
  const nVectors = Math.min(512, Math.floor(source.totalVectors / source.contextLength) * source.contextLength);
  for (const dir of dirs) {
    const { dictionary } = await loadSae(dir);
    try {
      const res = await evaluateUnsupervised(dictionary, source, { nVectors, batchSize: nVectors, seed: 0 });
      await storeUnsupervisedMetrics(pool, dir, res.rows, res.evalConfig, res.evalConfigHash);
    } finally {
      dictionary.dispose();
    }
  }
}

/**
 * A trained LM next to the fixture's random-init one, so the leaderboard has both lists and a probe
 * ceiling: the tiny GPT trained a few steps on the dataset's games, its activations, an SAE on
 * them, evaluated with linear probes.
 */
async function seedTrainedLm(e: EvaluatedDatabase): Promise<void> {
  const ds = await openDataset(e.datasetDir);
  const { tokens, stride } = await ds.readTokens();
  const train = inMemorySequences({ game: 'othello', tokenizer: 'othello-61', tokens: Int32Array.from(tokens), length: stride, source: 'dataset' });
  const meta: CheckpointMeta = { format: 'saeboard-lm/1', name: 'tiny-othello-trained', game: 'othello', tokenizer: 'othello-61', model: tinyConfig('othello'), provenance: { kind: 'trained' } };
  const run = await trainLm({ outDir: path.join(e.tmp, 'lm-trained'), meta, train, options: { ...DEFAULT_TRAIN_OPTIONS, steps: 4, batchSize: 8, warmupSteps: 1, evalInterval: 100, checkpointInterval: 4, seed: 3 } });
  const { model, meta: loaded } = await loadModelDir(run.finalCheckpoint);
  const actDir = path.join(e.tmp, 'acts-trained');
  await writeActivations({ model, layer: 1, data: train, outDir: actDir, modelInfo: { name: loaded.name, dir: run.finalCheckpoint, config: loaded.model, tokenizer: loaded.tokenizer } });
  // Its linear probe at that layer, as the PROBE job trains and registers it: the leaderboard's ceiling.
  const probes = await trainLayerProbes({ model, modelTokenizer: loaded.tokenizer, datasetDir: e.datasetDir, layers: [1], families: ['board_state'], maxTrain: 400, maxTest: 200, probe: { maxEpochs: 5 } });
  await registerProbeResults(e.db.pool, run.finalCheckpoint, e.datasetDir, probes.map((r) => ({ ...r, site: 'resid_post' })), { maxEpochs: 5 });
  model.dispose();
  const sweepDir = path.join(e.tmp, 'sweep-trained');
  const spec = resolveSweep(
    {
      name: 'trained-sweep',
      batchSize: 64,
      buffer: { contexts: 10 },
      source: { type: 'activations', path: actDir, repeat: true },
      defaults: { steps: 8, warmupSteps: 1, expansion: 2 },
      trainers: [{ trainer: 'top_k', k: 4 }],
    },
    16,
  );
  await runSweep(spec, await activationSetSource(actDir), { outDir: sweepDir, showProgress: false });
  await registerSweepDir(e.db.pool, sweepDir);
  const sae = finalDir(path.join(sweepDir, spec.saes[0].name));
  await runEvaluation({ saeDirs: [sae], datasetDir: e.datasetDir, families: 'board_state,valid_moves', maxSampleGames: 5, lmBatchSize: 8, pool: e.db.pool, exportDir: null });
  await storeL0(e.db.pool, [sae], actDir);
}

describe.skipIf(!chromiumPath)('web dashboard in Chromium', () => {
  const errors: string[] = [];
  let page: Page;

  beforeAll(async () => {
    await promisify(execFile)(process.execPath, [path.join(PROJECT_ROOT, 'scripts/build-web.mjs')], { cwd: PROJECT_ROOT, timeout: 120_000 });
    env = await makeEvaluatedDatabase();
    await storeL0(env.db.pool, env.checkpointDirs, path.join(env.tmp, 'acts'));
    await seedTrainedLm(env);
    // A chess SAE too (random-init tiny chess GPT, an SAE made here), evaluated on board_state.
    const chessData = await makeChessDataset(path.join(env.tmp, 'chess-data'), 6);
    const chessLm = await makeLm(path.join(env.tmp, 'chess-lm'), 'chess', 4);
    const chessSae = await makeSae(path.join(env.tmp, 'chess-sae'), { lmDir: chessLm, layer: 0, dictSize: 24 });
    await runEvaluation({ saeDirs: [chessSae], datasetDir: chessData, families: 'board_state', maxSampleGames: 2, topK: 4, lmBatchSize: 4, pool: env.db.pool, exportDir: null });
    token = (await createApiKey(env.db.pool, 'web-test')).token;
    server = await startServer({ pool: env.db.pool, port: 0 });
    base = server.url.replace('/graphql', '');
    browser = await playwright.launch({ executablePath: chromiumPath!, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await env?.cleanup();
  });

  it('serves the app at / and at deep links (index.html), assets with a CSP; API clients still get JSON 404s', async () => {
    for (const p of ['/', '/sae/1', '/feature/1:0?bsp=3', '/jobs']) {
      const res = await fetch(`${base}${p}`, { headers: { accept: 'text/html' } });
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      expect(await res.text()).toContain('<div id="root">');
    }
    const html = await (await fetch(`${base}/`, { headers: { accept: 'text/html' } })).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
    const js = await fetch(`${base}${script}`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toMatch(/immutable/);
    expect((await fetch(`${base}/assets/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${base}/nope`)).status).toBe(404); // not a browser: the JSON 404
  });

  it('leaderboard: the table and the plot hold what GraphQL returns; clicking a point opens its SAE', async () => {
    const data = (
      await gql(`{ leaderboard(game: othello, metric: "coverage", family: "board_state") { entries { value l0 sae { id name } } randomInit { value l0 sae { id name } } probe { accuracy f1 } } }`)
    ).leaderboard;
    // One SAE of the trained LM; the fixture's three of its random-init LM are the floor list (hollow markers, the floor line).
    expect(data.entries).toHaveLength(1);
    expect(data.randomInit).toHaveLength(3);
    expect(data.probe).not.toBeNull();
    const lb = { entries: [...data.entries, ...data.randomInit] };
    expect(lb.entries.every((e: any) => e.l0 > 0)).toBe(true);
    await open(page, '/?game=othello&metric=coverage&family=board_state', 'table[aria-label^="SAEs ranked"] tbody tr');
    const rows = await page.$$eval('table[aria-label^="SAEs ranked"] tbody tr[data-sae]', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent!.trim())));
    expect(rows.map((r) => r[1].replace(' random-init LM', ''))).toEqual(lb.entries.map((e: any) => e.sae.name));
    expect(rows.map((r) => r[4])).toEqual(lb.entries.map((e: any) => fmt(e.l0, 2)));
    expect(await page.textContent('main')).toContain(`Floor: ${fmt(Math.max(...data.randomInit.map((e: any) => e.value)))}`);
    expect(await page.textContent('main')).toContain(`Ceiling: ${fmt(data.probe.f1 ?? data.probe.accuracy)}`);
    expect(await page.$$('figure.plot svg [data-mark="rule"]')).toHaveLength(2); // the random-init floor and the probe ceiling
    expect(rows.map((r) => r[5])).toEqual(lb.entries.map((e: any) => fmt(e.value)));
    const dots = await page.$$('figure.plot svg [data-mark="dot"] path, figure.plot svg [data-mark="dot"] circle');
    expect(dots.length).toBe(lb.entries.filter((e: any) => e.l0 != null).length);
    await expectAccessible(page, 'leaderboard');
    await shoot(page, 'leaderboard');

    // Hover a point (the tip names its SAE), click: its SAE page opens.
    const box = (await dots[0].boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForSelector('figure.plot svg [data-mark="tip"] text', { timeout: 5000 });
    const tip = await page.$$eval('figure.plot svg [data-mark="tip"]', (els) => els.map((el) => el.textContent ?? '').join(' '));
    const named = lb.entries.find((e: any) => tip.includes(e.sae.name));
    expect(named, `tip "${tip}"`).toBeDefined();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForURL(`**/sae/${named.sae.id}`);
    await page.waitForSelector('h1');
    expect(await page.textContent('h1')).toContain(named.sae.name);
  });

  it('leaderboard → SAE → feature → board property, each page showing what GraphQL returns', async () => {
    await open(page, '/?game=othello&metric=coverage&family=board_state', 'table[aria-label^="SAEs ranked"] tbody tr');
    const first = (await gql(`{ leaderboard(game: othello, metric: "coverage", family: "board_state") { randomInit { sae { id name } } } }`)).leaderboard.randomInit[0].sae;
    await page.click(`tr[data-sae="${first.id}"] a`);
    await page.waitForURL(`**/sae/${first.id}`);
    await page.waitForSelector('tr[data-family]');

    // SAE page: per-family scores, best features, density histogram.
    const sae = (
      await gql(`query($id: ID!) { sae(id: $id) { name checkpoints { id } finalCheckpoint { id densityHistogram(bins: 24) { dead } features(first: 10, orderBy: F1) { edges { node { id bestF1 } } } metrics { metric family value } } } }`, { id: first.id })
    ).sae;
    const coverage = sae.finalCheckpoint.metrics.filter((m: any) => m.metric === 'coverage');
    expect(coverage.length).toBeGreaterThan(0);
    for (const m of coverage) {
      expect(await page.textContent(`tr[data-family="${m.family}"] td:nth-child(2)`)).toBe(fmt(m.value));
    }
    const featureIds = await page.$$eval('tr[data-feature]', (trs) => trs.map((t) => t.getAttribute('data-feature')));
    expect(featureIds).toEqual(sae.finalCheckpoint.features.edges.map((e: any) => e.node.id));
    expect(await page.textContent('main')).toContain(`${sae.finalCheckpoint.densityHistogram.dead} dead features`);
    expect(await page.$$('.small-multiples figure svg')).not.toHaveLength(0);
    await expectAccessible(page, 'SAE page');
    await shoot(page, 'sae');

    // Feature page: stats, example boards with the right discs, alignment curve, heatmap.
    const featureId = featureIds[0]!;
    await page.click(`tr[data-feature="${featureId}"] a`);
    await page.waitForURL(`**/feature/${featureId}`);
    await page.waitForSelector('figure.example svg.othello');
    const f = (
      await gql(`query($id: ID!) { feature(id: $id) { maxActivation density bestF1 topExamples(first: 6) { board transcript positionIndex } alignments(first: 10) { f1 boardProperty { id name } } squareF1(family: "board_state") { square } } }`, {
        id: featureId,
      })
    ).feature;
    expect(await page.textContent('[data-stat="maxActivation"]')).toBe(fmt(f.maxActivation));
    expect(await page.textContent('[data-stat="density"]')).toBe(fmt(f.density, 4));
    const boards = await page.$$eval('figure.example svg.othello', (svgs) =>
      svgs.map((s) => ({ board: s.getAttribute('data-board'), black: s.querySelectorAll('[data-piece="black"] circle').length, white: s.querySelectorAll('[data-piece="white"] circle').length })),
    );
    expect(boards.map((b) => b.board)).toEqual(f.topExamples.map((e: any) => e.board));
    for (const [i, b] of boards.entries()) {
      expect(b.black).toBe([...f.topExamples[i].board].filter((c: string) => c === 'X').length);
      expect(b.white).toBe([...f.topExamples[i].board].filter((c: string) => c === 'O').length);
    }
    const marked = await page.$$eval('figure.example .transcript mark', (ms) => ms.map((m) => m.textContent));
    expect(marked).toEqual(f.topExamples.map((e: any) => e.transcript[e.positionIndex]));
    const heatCells = await page.$$eval('svg.heatmap text', (ts) => ts.filter((t) => t.textContent).length);
    expect(heatCells).toBe(f.squareF1.length);
    expect(f.alignments.length).toBeGreaterThan(0);
    await page.waitForSelector('section[aria-labelledby="align"] figure svg');
    await expectAccessible(page, 'feature page');
    await shoot(page, 'feature');

    // Board property page.
    const bsp = f.alignments[0].boardProperty;
    await page.click(`tr[data-bsp="${bsp.id}"] a`);
    await page.waitForURL(`**/property/${bsp.id}`);
    await page.waitForSelector('h1');
    expect(await page.textContent('h1')).toBe(bsp.name);
    await page.waitForSelector('section[aria-labelledby="steps"] figure svg');
    const best = (await gql(`query($b: String!) { features(filter: { boardProperty: $b }, first: 100, orderBy: F1) { edges { node { id } alignment { f1 } } } }`, { b: bsp.id })).features.edges;
    const listed = await page.$$eval('tr[data-feature]', (trs) => trs.map((t) => [t.getAttribute('data-feature'), t.querySelector('td:nth-child(4)')!.textContent]));
    expect(listed).toEqual(best.map((e: any) => [e.node.id, fmt(e.alignment.f1)]));
    await expectAccessible(page, 'board property page');
    await shoot(page, 'property');
  });

  it('explorer: three legal moves played on the board, the active features change with them', async () => {
    const saes = (await gql(`{ saes(filter: { game: othello }, first: 10) { edges { node { id } } } }`)).saes.edges.map((e: any) => e.node.id);
    await open(page, `/explorer?game=othello&saes=${saes.join(',')}`, 'svg.othello rect[role="button"]');
    expect(await page.$$eval('svg.othello rect[role="button"]', (r) => r.map((x) => x.getAttribute('aria-label')).sort())).toEqual(['Play c4', 'Play d3', 'Play e6', 'Play f5']);
    const seen: string[][] = [];
    const played: string[] = [];
    for (let n = 1; n <= 3; n++) {
      const square = (await page.getAttribute('svg.othello rect[role="button"]', 'aria-label'))!.replace('Play ', '');
      if (n === 3) {
        // The third by keyboard: focus the square, press Enter.
        await page.focus(`svg.othello rect[aria-label="Play ${square}"]`);
        await page.keyboard.press('Enter');
      } else await page.click(`svg.othello rect[aria-label="Play ${square}"]`);
      played.push(square);
      await page.waitForSelector(`p.moves[data-moves="${played.join(' ')}"]`);
      await page.waitForFunction((m) => !document.querySelector('h2#pos .tag') && document.querySelector(`.sae-result`) !== null && (document.querySelector('p.moves')?.getAttribute('data-moves') ?? '') === m, played.join(' '));
      const expected = (await gql(`query($m: String!, $s: [ID!]!) { analyzePosition(game: othello, moves: $m, saes: $s, maxFeatures: 12) { board legalMoves saes { sae { id } features { featureIndex } } } }`, { m: played.join(' '), s: saes })).analyzePosition;
      await page.waitForFunction((b) => document.querySelector('svg.othello')?.getAttribute('data-board') === b, expected.board);
      const shown = await page.$$eval(`.sae-result[data-sae="${saes[0]}"] tr[data-feature-index]`, (trs) => trs.map((t) => t.getAttribute('data-feature-index')!));
      expect(shown).toEqual(expected.saes[0].features.map((x: any) => String(x.featureIndex)));
      expect(await page.$$eval('svg.othello rect[role="button"]', (r) => r.map((x) => x.getAttribute('aria-label')!.replace('Play ', '')).sort())).toEqual([...expected.legalMoves].sort());
      seen.push(saes.map((s: string, i: number) => `${s}:${expected.saes[i].features.map((x: any) => x.featureIndex).join(',')}`));
    }
    expect(new Set(seen.map((s) => s.join('|'))).size).toBeGreaterThan(1);
    expect(page.url()).toContain(`moves=${played.join('+')}`);
    await expectAccessible(page, 'explorer');
    await shoot(page, 'explorer');
  });

  it('explorer, chess: chessground board, a move from the keyboard list and one clicked on the board, legal moves from the API', async () => {
    await open(page, '/explorer?game=chess', '.cg-wrap cg-board piece');
    expect(await page.$$('.cg-wrap cg-board piece')).toHaveLength(32);
    await page.selectOption('form.move-form select', 'e2e4');
    await page.click('form.move-form button[type="submit"]');
    await page.waitForSelector('p.moves[data-moves="e4"]');
    const after = (await gql(`{ analyzePosition(game: chess, moves: "e4", saes: []) { board legalMoves } }`)).analyzePosition;
    await page.waitForSelector(`.chess-wrap[data-fen="${after.board}"]`);
    const options = await page.$$eval('form.move-form select option', (os) => os.map((o) => (o as HTMLOptionElement).value).sort());
    expect(options).toEqual([...after.legalMoves].sort());
    // Black answers e7–e5 by clicking the two squares on the board (white at the bottom, 320 px).
    const box = (await (await page.$('.cg-wrap'))!.boundingBox())!;
    const at = (file: number, rank: number) => ({ x: box.x + ((file + 0.5) * box.width) / 8, y: box.y + ((8 - rank + 0.5) * box.height) / 8 });
    await page.mouse.click(at(4, 7).x, at(4, 7).y);
    await page.mouse.click(at(4, 5).x, at(4, 5).y);
    await page.waitForSelector('p.moves[data-moves="e4 e5"]');
    const fen = (await gql(`{ analyzePosition(game: chess, moves: "e4 e5", saes: []) { board } }`)).analyzePosition.board;
    await page.waitForSelector(`.chess-wrap[data-fen="${fen}"]`);
    expect(await page.$$('.cg-wrap cg-board piece')).toHaveLength(32);
    await expectAccessible(page, 'chess explorer');
  });

  it('feature page, chess: chessground boards of the top examples, the transcript with the position’s character marked', async () => {
    const [row] = (
      await env.db.pool.query(
        `SELECT e.sae_checkpoint_id AS c, e.feature_index AS i FROM feature_examples e JOIN sae_checkpoints c ON c.id = e.sae_checkpoint_id
         JOIN saes s ON s.id = c.sae_id JOIN lm_checkpoints lc ON lc.id = s.lm_checkpoint_id JOIN lm_models lm ON lm.id = lc.lm_model_id
         WHERE lm.game = 'chess' ORDER BY e.activation DESC LIMIT 1`,
      )
    ).rows;
    const id = `${row.c}:${row.i}`;
    const f = (await gql(`query($id: ID!) { feature(id: $id) { topExamples(first: 6) { board transcript positionIndex } } }`, { id })).feature;
    await open(page, `/feature/${id}`, 'figure.example .cg-wrap cg-board piece');
    const fens = await page.$$eval('figure.example .chess-wrap', (els) => els.map((e) => e.getAttribute('data-fen')));
    expect(fens).toEqual(f.topExamples.map((e: any) => e.board));
    const pieces = await page.$$eval('figure.example .cg-wrap', (els) => els.map((e) => e.querySelectorAll('cg-board piece').length));
    expect(pieces).toEqual(f.topExamples.map((e: any) => [...e.board.split(' ')[0]].filter((c: string) => /[pnbrqk]/i.test(c)).length));
    const marked = await page.$$eval('figure.example .transcript mark', (ms) => ms.map((m) => m.textContent));
    expect(marked).toEqual(f.topExamples.map((e: any) => e.transcript[e.positionIndex]));
    expect(marked.every((m) => m === '.')).toBe(true); // chess positions are read at the dots
    await expectAccessible(page, 'chess feature page');
    await shoot(page, 'feature-chess');
  });

  it('jobs: start an evaluation with an API key, see its progress live, cancel it', async () => {
    await open(page, '/jobs', 'h1');
    await page.waitForSelector('.tag.live-live');
    await page.fill('input[type="password"]', token);
    await page.selectOption('form.start select', 'EVALUATE');
    await page.getByLabel('SAE checkpoint or sweep directories (one a line)').fill(env.sweepDir);
    await page.getByLabel('Evaluation dataset directory').fill(env.datasetDir);
    await page.getByLabel(/Board-property families/).fill('board_state');
    await page.click('form.start button[type="submit"]');
    await page.waitForSelector('.notice');
    const id = /Started job (\d+)/.exec((await page.textContent('.notice'))!)![1];
    await page.waitForSelector(`tr[data-job="${id}"][data-status="queued"]`);
    const job = (await gql(`query($id: ID!) { job(id: $id) { kind config } }`, { id })).job;
    expect(job.kind).toBe('EVALUATE');
    expect(job.config).toMatchObject({ saes: [env.sweepDir], dataset: env.datasetDir, families: 'board_state' });

    // A progress report from the queue (as a worker writes it) reaches the page over the subscription.
    await updateProgress(env.db.pool, Number(id), { progress: 0.42, stage: 'evaluating', message: 'from the test' });
    await page.waitForFunction((j) => document.querySelector(`tr[data-job="${j}"]`)?.textContent?.includes('42%'), id, { timeout: 10_000 });
    expect(await page.textContent(`tr[data-job="${id}"]`)).toContain('evaluating: from the test');
    await expectAccessible(page, 'jobs');
    await shoot(page, 'jobs');

    await page.click(`button[aria-label="Cancel job ${id}"]`);
    await page.waitForSelector(`tr[data-job="${id}"][data-status="cancelled"]`);
    expect((await gql(`query($id: ID!) { job(id: $id) { status } }`, { id })).job.status).toBe('cancelled');
  });

  it('shows loading and error states: an unknown SAE is an error with a retry, not a blank page', async () => {
    await open(page, '/sae/999999', '[role="alert"]');
    expect(await page.textContent('[role="alert"]')).toMatch(/no SAE|not found/i);
    await expectAccessible(page, 'error state');
    await open(page, '/no/such/page', 'h1');
    expect(await page.textContent('h1')).toBe('Not found');
  });

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
  });
});
