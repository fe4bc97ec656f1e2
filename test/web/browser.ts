/// <reference lib="dom" />
/**
 * Shared by the browser tests of the dashboard: Chromium's path, axe-core, screenshots at laptop
 * and phone widths (with the 390 px no-sideways-overflow check) and waiting for a page.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { PROJECT_ROOT } from '../../src/version.js';

export function findChromium(): string | null {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {
      // not this one
    }
  }
  return null;
}

export const ARTIFACTS = path.join(PROJECT_ROOT, 'test', 'artifacts', 'web');
const DOCS_IMG = process.env.SAEBOARD_SCREENSHOTS ? path.join(PROJECT_ROOT, 'docs', 'img') : null;
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export const fmt = (v: number | null | undefined, digits = 3) => (v == null ? '–' : Number(v).toFixed(digits));

/** Zero serious or critical axe-core violations on the page as it is now. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (o: unknown) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run({
      resultTypes: ['violations'],
    });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  });
  expect(violations, `axe on ${what}`).toEqual([]);
}

/** Screenshots at laptop and phone widths (docs/img/dashboard-<name>.png under `npm run screenshots`); at the phone width nothing may overflow sideways. */
export async function shoot(page: Page, name: string, opts: { docs?: boolean } = {}): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-1280.png`), fullPage: true });
  if (DOCS_IMG && opts.docs !== false) {
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

/** Open base+url and wait for a selector; on failure, a screenshot and what the page says. */
export async function open(page: Page, base: string, url: string, ready: string): Promise<void> {
  await page.goto(`${base}${url}`);
  await waitFor(page, url, ready);
}

export async function waitFor(page: Page, what: string, ready: string): Promise<void> {
  try {
    await page.waitForSelector(ready, { timeout: 20_000 });
  } catch (err) {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, `failed-${what.replace(/[^a-z0-9]+/gi, '_')}.png`), fullPage: true });
    throw new Error(`${what}: ${ready} did not appear; the page says: ${(await page.textContent('main').catch(() => null))?.slice(0, 400)}`, { cause: err });
  }
}
