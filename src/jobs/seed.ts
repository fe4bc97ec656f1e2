/**
 * What `saeboard serve` puts in a database before serving: the BSP catalogue of every game and the
 * LMs shipped in models/ (with their random-init twins). Idempotent — registering twice changes
 * nothing — so it runs at every start and a fresh install answers with real content at once.
 */
import type pg from 'pg';
import { initBackend } from '../tensor/backend.js';
import { log } from '../log.js';
import { registerBspCatalogue } from './datasets.js';
import { registerShippedModels } from './lm.js';

export interface SeedResult {
  bsp: Record<string, { families: number; properties: number }>;
  models: string[];
}

export async function seedDatabase(pool: pg.Pool): Promise<SeedResult> {
  const t0 = Date.now();
  await initBackend(); // registering an LM checkpoint loads it through tfjs
  const bsp = await registerBspCatalogue(pool);
  const models = (await registerShippedModels(pool)).map((m) => m.name);
  log.info({ ms: Date.now() - t0, bsp, models }, 'database seeded (BSP catalogue, shipped models)');
  return { bsp, models };
}
