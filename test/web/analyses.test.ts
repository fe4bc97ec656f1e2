/// <reference lib="dom" />
/**
 * The analyses (issue 17) in the dashboard, in a real browser: the project's pipeline fills a
 * database (tiny Othello dataset → GPT → sweep of three trainers with an intermediate and a final
 * checkpoint → evaluation), the ANALYZE job kind analyses every SAE (final-checkpoint analysis,
 * consecutive comparisons, feature histories), and the SAE, compare and feature pages must show
 * what GraphQL returns, pass axe-core (no serious/critical violations) and fit 390 px.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { jobKind, validateJobConfig } from '../../src/jobs/kinds.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { makeEvaluatedDatabase, type EvaluatedDatabase } from '../helpers/evaluated-db.js';
import { expectAccessible, findChromium, fmt, open, shoot, waitFor } from './browser.js';

const chromiumPath = findChromium();
let env: EvaluatedDatabase;
let server: RunningServer;
let base: string;
let browser: Browser;
let page: Page;
const errors: string[] = [];
/** The SAE shown, and one of its final checkpoint's features with explanations. */
let saeId: string;
let featureId: string;

async function gql(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data;
}

const pct = (v: number | null) => (v == null ? '–' : `${(v * 100).toFixed(1)}%`);
const cells = (p: Page, rows: string) => p.$$eval(rows, (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent!.trim())));

describe.skipIf(!chromiumPath)('analyses in the dashboard (Chromium)', () => {
  beforeAll(async () => {
    const build = promisify(execFile)(process.execPath, [path.join(PROJECT_ROOT, 'scripts/build-web.mjs')], { cwd: PROJECT_ROOT, timeout: 120_000 });
    env = await makeEvaluatedDatabase();
    await build;
    const saes = (await env.db.pool.query('SELECT id FROM saes ORDER BY id')).rows.map((r) => Number(r.id));
    // The ANALYZE job kind, as the queue runs it: per SAE its final checkpoint's analysis, the
    // intermediate → final comparison and the feature histories.
    const { config } = validateJobConfig('ANALYZE', { saes });
    await jobKind('ANALYZE').run(config, { pool: env.db.pool, jobId: 0, signal: new AbortController().signal, progress: () => {}, log: () => {} });
    server = await startServer({ pool: env.db.pool, port: 0 });
    base = server.url.replace('/graphql', '');
    for (const id of saes) {
      const d = await gql(
        `query($id: ID!) { sae(id: $id) { finalCheckpoint { features(first: 20, orderBy: F1) { edges { node { id explanations { text } } } } } } }`,
        { id: String(id) },
      );
      const f = d.sae.finalCheckpoint.features.edges.find((e: any) => e.node.explanations.length > 0);
      if (f) {
        saeId = String(id);
        featureId = f.node.id;
        break;
      }
    }
    expect(featureId, 'a feature with explanations').toBeDefined();
    browser = await playwright.launch({ executablePath: chromiumPath!, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && !/status of 4\d\d/.test(m.text()) && errors.push(`console: ${m.text()}`));
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await env?.cleanup();
  });

  it('SAE page: explained share, absorption and splitting per board property, learning order', async () => {
    const d = await gql(
      `query($id: ID!) {
        sae(id: $id) { finalCheckpoint {
          explainedShare { atF1_50 atF1_80 absorption splitting explainedFeatures aliveFeatures }
          boardPropertyAnalyses(first: 20, orderBy: ABSORPTION) { edges { node { boardProperty { id name } bestF1 absorption missed positives splitting } } }
        } }
        learningOrder(sae: $id, first: 20) { edges { node { boardProperty { id name } firstStep features bestFinalF1 } } }
      }`,
      { id: saeId },
    );
    const share = d.sae.finalCheckpoint.explainedShare;
    expect(share).not.toBeNull();
    await open(page, base, `/sae/${saeId}`, 'dd[data-stat="atF1_50"]');
    const stat = (k: string) => page.textContent(`dd[data-stat="${k}"]`);
    expect(await stat('atF1_50')).toBe(pct(share.atF1_50));
    expect(await stat('atF1_80')).toBe(pct(share.atF1_80));
    expect(await stat('explained')).toBe(`${share.explainedFeatures} / ${share.aliveFeatures}`);
    expect(await stat('absorption')).toBe(fmt(share.absorption));
    expect(await stat('splitting')).toBe(fmt(share.splitting, 2));

    const bsps = d.sae.finalCheckpoint.boardPropertyAnalyses.edges.map((e: any) => e.node);
    expect(bsps.length).toBeGreaterThan(0);
    const bspRows = await cells(page, 'tr[data-bsp]');
    expect(bspRows.map((r) => r[0])).toEqual(bsps.map((b: any) => b.boardProperty.name));
    expect(bspRows.map((r) => r[2])).toEqual(bsps.map((b: any) => fmt(b.bestF1)));
    expect(bspRows.map((r) => r[3])).toEqual(bsps.map((b: any) => fmt(b.absorption)));
    expect(bspRows.map((r) => r[4])).toEqual(bsps.map((b: any) => `${b.missed} / ${b.positives}`));
    expect(bspRows.map((r) => r[6])).toEqual(bsps.map((b: any) => (b.splitting == null ? '–' : String(b.splitting))));

    const learnt = d.learningOrder.edges.map((e: any) => e.node);
    await waitFor(page, 'learning order', learnt.length ? 'tr[data-learnt]' : 'section[aria-labelledby="learn"] p.status');
    const learnRows = await cells(page, 'tr[data-learnt]');
    expect(learnRows).toEqual(learnt.map((l: any) => [l.boardProperty?.name ?? '–', l.firstStep == null ? 'never' : String(l.firstStep), String(l.features), fmt(l.bestFinalF1)]));
    await expectAccessible(page, 'SAE page with analyses');
    await shoot(page, 'sae-analyses', { docs: false });
  });

  it('compare page: from the SAE page, summary and links as GraphQL returns them; kind filter is a deep link', async () => {
    const ckpts = (await gql(`query($id: ID!) { sae(id: $id) { checkpoints { id step } } }`, { id: saeId })).sae.checkpoints.sort((x: any, y: any) => x.step - y.step);
    const [a, b] = [ckpts[0].id, ckpts[1].id];
    // The picker: any two checkpoints, by their accessible names.
    await open(page, base, `/sae/${saeId}`, 'section[aria-labelledby="cmp"] li a');
    await page.getByLabel('Checkpoint A').selectOption(a);
    await page.getByLabel('Checkpoint B').selectOption(b);
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.waitForURL(`**/compare?a=${a}&b=${b}`);
    await waitFor(page, 'compare from the picker', 'dd[data-stat="matched"]');
    // The consecutive-checkpoints link.
    await open(page, base, `/sae/${saeId}`, 'section[aria-labelledby="cmp"] li a');
    await page.click('section[aria-labelledby="cmp"] li a');
    await page.waitForURL(`**/compare?a=${a}&b=${b}`);
    await waitFor(page, 'compare', 'dd[data-stat="matched"]');

    const q = `query($a: ID!, $b: ID!, $filter: LinkFilter) { compareCheckpoints(a: $a, b: $b, filter: $filter, first: 100) {
      totalCount summary { aliveA aliveB matched splits merges deaths births meanMatchedCosine }
      edges { node { kind matched featureA featureB cosine f1A f1B a { id } b { id } } } } }`;
    const c = (await gql(q, { a, b })).compareCheckpoints;
    const s = c.summary;
    for (const k of ['aliveA', 'aliveB', 'matched', 'splits', 'merges', 'deaths', 'births']) expect(await page.textContent(`dd[data-stat="${k}"]`), k).toBe(String(s[k]));
    expect(await page.textContent('dd[data-stat="meanMatchedCosine"]')).toBe(fmt(s.meanMatchedCosine));
    const rows = await cells(page, 'tr[data-link]');
    const expected = c.edges.map(({ node: n }: any) => [n.kind.toLowerCase(), n.featureA == null ? '–' : `#${n.featureA}`, n.featureB == null ? '–' : `#${n.featureB}`, fmt(n.cosine), n.matched ? 'yes' : 'no', fmt(n.f1A), fmt(n.f1B)]);
    expect(rows.map((r) => r.slice(0, 7))).toEqual(expected);
    if (c.edges.length < 100) expect(rows.filter((r) => r[4] === 'yes')).toHaveLength(s.matched); // every link on one page
    await expectAccessible(page, 'compare page');
    await shoot(page, 'compare');

    // Only the matches: the URL carries the filter, the rows are the matched pairs.
    await page.selectOption('.filters select', 'match');
    await page.waitForURL(/kind=match/);
    await page.waitForFunction(() => Array.from(document.querySelectorAll('tr[data-link]')).every((tr) => tr.getAttribute('data-kind') === 'MATCH'));
    const matches = (await gql(q, { a, b, filter: { kinds: ['MATCH'] } })).compareCheckpoints;
    expect(await page.$$eval('tr[data-link]', (trs) => trs.length)).toBe(matches.edges.length);

    // A deep link opens the same view; a feature links to its page.
    await open(page, base, `/compare?a=${a}&b=${b}&kind=match`, 'dd[data-stat="matched"]');
    expect(await page.$eval('.filters select', (el) => (el as HTMLSelectElement).value)).toBe('match');
    if (matches.edges.length) {
      const first = matches.edges[0].node;
      await page.click(`tr[data-link] a[href="/feature/${first.b.id}"]`);
      await page.waitForURL(`**/feature/${first.b.id}`);
      await waitFor(page, 'feature from compare', 'h1');
      expect(await page.textContent('h1')).toContain(`Feature #${first.featureB}`);
    }

    // Two checkpoints never compared: the API's NOT_FOUND, shown as an error.
    await open(page, base, `/compare?a=${b}&b=${a}`, '[role="alert"]');
    expect(await page.textContent('[role="alert"]')).toMatch(/NOT_FOUND/);
  });

  it('feature page: explanations and the F1 history over checkpoints', async () => {
    const index = Number(featureId.split(':')[1]);
    const d = await gql(
      `query($id: ID!, $sae: ID!, $index: Int!) {
        feature(id: $id) { explanations(first: 3) { rank text kind precision recall f1 } }
        featureHistory(sae: $sae, feature: $index) { level firstStep points { step f1 } }
      }`,
      { id: featureId, sae: saeId, index },
    );
    await open(page, base, `/feature/${featureId}`, 'section[aria-labelledby="expl"] tr[data-rank]');
    const rows = await cells(page, 'section[aria-labelledby="expl"] tr[data-rank]');
    expect(rows).toEqual(d.feature.explanations.map((e: any) => [`${e.text} ${e.kind.toLowerCase()}`, fmt(e.precision), fmt(e.recall), fmt(e.f1)]));
    const h = d.featureHistory;
    expect(h).not.toBeNull();
    await waitFor(page, 'history', 'section[aria-labelledby="hist"] figure.plot svg');
    const label = await page.getAttribute('section[aria-labelledby="hist"] figure.plot svg[role="img"]', 'aria-label');
    expect(label).toContain(h.points.map((p: any) => `step ${p.step}: ${p.f1.toFixed(3)}`).join(', '));
    expect(await page.$$('section[aria-labelledby="hist"] figure.plot svg [data-mark="dot"] circle, section[aria-labelledby="hist"] figure.plot svg [data-mark="dot"] path')).toHaveLength(h.points.length);
    expect(await page.textContent('[data-stat="firstStep"]')).toBe(h.firstStep == null ? `never reaches F1 ${h.level}` : `first reaches F1 ${h.level} at step ${h.firstStep}`);
    await expectAccessible(page, 'feature page with analyses');
    await shoot(page, 'feature-analyses', { docs: false });
    expect(errors).toEqual([]);
  });
});
