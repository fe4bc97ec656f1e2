/**
 * The GraphQL API at scale (issue 13, "Performance"): a database of ≥ 1,000 evaluated SAE
 * checkpoints, ≥ 2M alignment rows and ≥ 100k features, filled through the project's own writers
 * (registerBspCatalogue, upsertLmModel/upsertLmCheckpoint, upsertSae/upsertSaeCheckpoints,
 * writeEvaluation inside withTransaction), then driven over loopback from a second process
 * (lib/load-driver.ts: open loop, Poisson arrivals at 200 requests/s in all, latency counted from
 * each request's scheduled time, after a --warmup of the same load) with a mix of the heavy read
 * queries, sent as fixed documents with variables; and analyzePosition over
 * HTTP on 4 real SAEs (d 256, 1,024 features, saved by the SAE storage code) of models/othello-small.
 *   npm run bench -- api-scale [--seconds 60] [--ckpts 1000] [--features 128] [--rate 200] [--analyze 50] [--cache both|on|off] [--settle 120] [--warmup 10] [--keep-db yes | --db URL]
 * Goals: p99 < 50 ms at 200 req/s for features-by-BSP and the leaderboard, 0 errors, RSS bounded;
 * analyzePosition (4 SAEs) p50 < 100 ms.
 * The mix runs against a server with the response cache off (every answer computed: what a new
 * question costs) and then on (the default server: repeated questions answered from memory until
 * results change); each record says which, and the cached run its hit ratio.
 * The fill itself loads the machine, so the bench waits (up to 2 minutes) for the load average to
 * settle before it measures. Whether a record was taken under others' load is the harness's call
 * (CPU used by processes outside this bench's tree and Postgres over the record's window): the
 * load average cannot say, as this bench's own fill and mix keep both cores busy.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import type { Bench } from './harness.js';
import { quantile, type DriveResult, type KindResult, type LoadPlan } from './lib/load-driver.js';
import { cpuSnapshot, postgresCpuMs } from './lib/other-load.js';
import { watchPauses } from './lib/pauses.js';
import { existingDatabase, scratchDatabase, type ScratchDb } from './lib/scratch-db.js';
import { startServer } from '../src/api/server.js';
import { createApiPool, withTransaction, type Queryable } from '../src/db/pool.js';
import { writeEvaluation, type EvaluationWrite } from '../src/db/repos/eval.js';
import { listFeatures, type FeatureQuery } from '../src/db/repos/features.js';
import { upsertLmCheckpoint, upsertLmModel } from '../src/db/repos/lm.js';
import { upsertSae, upsertSaeCheckpoints } from '../src/db/repos/sae.js';
import { registerBspCatalogue } from '../src/jobs/datasets.js';
import { createDictionary, dictionaryConfig, initDictionaryTensors, Rng, saveDictionary } from '../src/sae/index.js';
import { initBackend } from '../src/tensor/backend.js';
import { PROJECT_ROOT } from '../src/version.js';
import { Sfc32 } from '../src/util/sfc32.js';

const LOADED_AT = 1.5;
const TRAINERS = ['standard', 'gated', 'p_anneal', 'top_k', 'batch_top_k', 'jump_relu'];
// 16 alignment rows per feature (8 board properties × 2 thresholds), so 128 features give 2,048 rows
// per checkpoint, over the 256 board properties an Othello evaluation scores (board_state +
// valid_moves, the reported families): about 4 features per property per checkpoint, so each
// property has ~4,000 candidates in feature_bsp_best across 1,000 SAEs.
const THRESHOLDS_PER_PAIR = 2;
const BSPS_PER_FEATURE = 8;
const EVALUATED_FAMILIES = ['board_state', 'valid_moves'];

interface Bsp {
  id: number;
  name: string;
  family: string;
  short_name: string;
}

/** One synthetic but realistically shaped evaluation of a checkpoint with F features. */
function syntheticEvaluation(ckptId: number, seed: number, F: number, bsps: readonly Bsp[], families: readonly string[]): EvaluationWrite {
  const rng = new Sfc32(seed);
  const rnd = () => rng.next();
  const n = F * BSPS_PER_FEATURE * THRESHOLDS_PER_PAIR;
  const a = {
    count: n,
    feature: new Int32Array(n),
    bspId: new Int32Array(n),
    thresholdIndex: new Uint8Array(n),
    tp: new Int32Array(n),
    fp: new Int32Array(n),
    fn: new Int32Array(n),
    precision: new Float32Array(n),
    recall: new Float32Array(n),
    f1: new Float32Array(n),
  };
  const alive = new Uint8Array(F);
  const maxActivation = new Float32Array(F);
  const density = new Float32Array(F);
  const bestBspId = new Int32Array(F).fill(-1);
  const bestF1 = new Float32Array(F);
  const bestThreshold = new Float32Array(F);
  let row = 0;
  for (let f = 0; f < F; f++) {
    alive[f] = rnd() < 0.92 ? 1 : 0;
    maxActivation[f] = alive[f] ? 0.5 + 4 * rnd() : 0;
    density[f] = alive[f] ? 0.2 * rnd() ** 2 : 0;
    const quality = rnd() ** 3; // most features align weakly, a few well
    const picked = new Set<number>();
    while (picked.size < BSPS_PER_FEATURE) picked.add(Math.floor(rnd() * bsps.length));
    for (const b of picked) {
      const t0 = Math.floor(rnd() * (11 - THRESHOLDS_PER_PAIR));
      for (let t = 0; t < THRESHOLDS_PER_PAIR; t++) {
        const p = Math.min(0.999, Math.max(0.01, quality * (0.6 + 0.4 * rnd()) + 0.05 * t));
        const r = Math.max(0.001, quality * (0.9 - 0.15 * t) * (0.7 + 0.3 * rnd()));
        const tp = Math.max(1, Math.round(2000 * r));
        a.feature[row] = f;
        a.bspId[row] = bsps[b].id;
        a.thresholdIndex[row] = t0 + t;
        a.tp[row] = tp;
        a.fp[row] = Math.round((tp * (1 - p)) / p);
        a.fn[row] = Math.round((tp * (1 - r)) / r);
        a.precision[row] = p;
        a.recall[row] = r;
        a.f1[row] = (2 * p * r) / (p + r);
        if (a.f1[row] > bestF1[f]) {
          bestF1[f] = a.f1[row];
          bestBspId[f] = bsps[b].id;
          bestThreshold[f] = (t0 + t) / 10;
        }
        row++;
      }
    }
  }
  const examplesPerFeature = 2;
  const ne = F * examplesPerFeature;
  const board = '.'.repeat(27) + 'OX......XO' + '.'.repeat(27);
  const coverage = 0.1 + 0.5 * rnd();
  return {
    saeCheckpointId: ckptId,
    datasetId: null,
    datasetPath: '/bench/othello-synthetic',
    evalConfig: { thresholds: 11, bench: 'api-scale' },
    evalConfigHash: 'bench-api-scale',
    codeVersion: 'bench',
    aliveFeatures: alive.reduce((s, x) => s + x, 0),
    trainPositions: 59_000,
    testPositions: 59_000,
    summary: { coverage },
    timings: { totalMs: 0 },
    features: { count: F, alive, maxActivation, density, bestBspId, bestF1, bestThreshold, histogram: () => Array.from({ length: 8 }, () => Math.round(rnd() * 1000) / 1000) },
    alignments: a,
    metrics: [
      ...families.map((fam) => ({ metric: 'coverage', family: fam, value: coverage * (0.5 + 0.5 * rnd()), details: {} })),
      ...families.map((fam) => ({ metric: 'reconstruction', family: fam, value: rnd(), details: {} })),
      { metric: 'l0', family: '', value: 5 + 60 * rnd(), details: {} },
      { metric: 'frac_variance_explained', family: '', value: 0.6 + 0.4 * rnd(), details: {} },
    ],
    examples: {
      count: ne,
      feature: Int32Array.from({ length: ne }, (_, i) => Math.floor(i / examplesPerFeature)),
      rank: Int16Array.from({ length: ne }, (_, i) => i % examplesPerFeature),
      split: () => 'test',
      gameIndex: Int32Array.from({ length: ne }, () => Math.floor(rnd() * 1000)),
      positionIndex: Int32Array.from({ length: ne }, () => Math.floor(rnd() * 59)),
      activation: Float32Array.from({ length: ne }, () => rnd()),
      board: () => board,
    },
    activations: null,
  };
}

async function registerLm(db: Queryable, dir: string) {
  const meta = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { name: string; game: string; model: object; provenance: { kind: string } };
  const origin = meta.provenance.kind === 'random-init' ? 'random-init' : 'trained';
  const configHash = createHash('sha256').update(JSON.stringify(meta.model)).digest('hex');
  const { row } = await upsertLmModel(db, { name: meta.name, game: meta.game, config: meta.model, configHash, origin });
  return upsertLmCheckpoint(db, { lmModelId: row.id, step: 4000, tokensSeen: 0, path: dir, weightsSha256: null, trainDatasetId: null, metrics: {}, codeVersion: 'bench' });
}

/** Register one SAE with a final checkpoint at `saePath` and write its evaluation, in one transaction. */
async function addEvaluatedSae(
  db: ScratchDb,
  o: { name: string; lmCkptId: number; layer: number; trainer: string; dSae: number; path: string; seed: number; bsps: readonly Bsp[]; families: readonly string[] },
): Promise<{ saeId: number; ckptId: number; rows: number }> {
  return withTransaction(db.pool, async (c) => {
    const sae = await upsertSae(c, {
      name: o.name,
      lmCheckpointId: o.lmCkptId,
      layer: o.layer,
      site: 'resid_post',
      datasetId: null,
      activationSetId: null,
      trainer: o.trainer,
      dictionary: 'relu',
      dIn: 256,
      dSae: o.dSae,
      hyperparameters: { seed: o.seed },
      configHash: `bench-${o.name}`,
      trainerConfigHash: null,
      sweep: 'bench-api-scale',
      path: o.path,
      status: 'finished',
      codeVersion: 'bench',
    });
    const [ck] = await upsertSaeCheckpoints(c, sae.id, [{ step: 1000, tokensSeen: 1_000_000, isFinal: true, path: o.path, weightsSha256: null }]);
    const res = await writeEvaluation(c, syntheticEvaluation(ck.id, o.seed, o.dSae, o.bsps, o.families));
    return { saeId: sae.id, ckptId: ck.id, rows: res.rows.alignments };
  });
}

/** The Othello board properties the synthetic evaluations score. */
async function evaluatedBsps(db: ScratchDb): Promise<Bsp[]> {
  const { rows } = await db.pool.query<Bsp>(
    `SELECT id, name, family, short_name FROM board_properties WHERE game = 'othello' AND short_name = ANY($1) ORDER BY id`,
    [EVALUATED_FAMILIES],
  );
  if (!rows.length) throw new Error(`no othello board properties of ${EVALUATED_FAMILIES.join(', ')}`);
  return rows;
}

/** The fill: the BSP catalogue, two LMs, `nCkpts` synthetic evaluated SAEs and 4 real ones (files under `tmp`), then ANALYZE. */
async function fill(db: ScratchDb, o: { nCkpts: number; F: number; tmp: string }): Promise<{ realSaes: number[]; fillS: number; alignmentRows: number }> {
  const t0 = performance.now();
  await registerBspCatalogue(db.pool, ['othello']);
  const bspRows = await evaluatedBsps(db);
  const families = [...new Set(bspRows.map((b) => b.family))];
  const trained = await registerLm(db.pool, path.join(PROJECT_ROOT, 'models', 'othello-small'));
  const random = await registerLm(db.pool, path.join(PROJECT_ROOT, 'models', 'othello-small-random'));
  let alignmentRows = 0;
  let lastReport = performance.now();
  for (let i = 0; i < o.nCkpts; i++) {
    const r = await addEvaluatedSae(db, {
      name: `bench-sae-${i}`,
      lmCkptId: i % 10 === 9 ? random.id : trained.id,
      layer: i % 4,
      trainer: TRAINERS[i % TRAINERS.length],
      dSae: o.F,
      path: `/bench/api-scale/sae-${i}`,
      seed: i + 1,
      bsps: bspRows,
      families,
    });
    alignmentRows += r.rows;
    if (performance.now() - lastReport > 15_000) {
      process.stderr.write(`api-scale: ${i + 1}/${o.nCkpts} checkpoints, ${alignmentRows} alignment rows, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
      lastReport = performance.now();
    }
  }
  // 4 real SAEs of othello-small (d 256, 1,024 features), saved by the SAE storage code.
  await initBackend();
  const realSaes: number[] = [];
  for (let k = 0; k < 4; k++) {
    const dir = path.join(o.tmp, `sae-${k}`);
    const dictSize = 1024;
    const tensors = initDictionaryTensors('relu', 256, dictSize, new Rng(100 + k));
    tensors.b_enc.fill(-0.05);
    const dict = createDictionary('relu', 256, dictSize, tensors);
    await saveDictionary(dir, dict, dictionaryConfig(dict, null, { step: 1000, provenance: { lm: { dir: trained.path }, layer: k, site: 'resid_post' } }));
    dict.dispose();
    const r = await addEvaluatedSae(db, { name: `bench-real-sae-${k}`, lmCkptId: trained.id, layer: k, trainer: 'standard', dSae: dictSize, path: dir, seed: 10_000 + k, bsps: bspRows, families });
    alignmentRows += r.rows;
    realSaes.push(r.saeId);
  }
  await db.pool.query('ANALYZE');
  return { realSaes, fillS: (performance.now() - t0) / 1000, alignmentRows };
}

class Captured extends Error {}

/** EXPLAIN (ANALYZE, BUFFERS) of the SQL listFeatures sends for `fq` (captured, then aborted). */
async function explainListFeatures(db: ScratchDb, fq: FeatureQuery): Promise<{ planningMs: number; executionMs: number; plan: string[] }> {
  let plan: string[] = [];
  const spy = {
    query: async (text: string, params: unknown[]) => {
      const r = await db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
      plan = r.rows.map((x) => x['QUERY PLAN']);
      throw new Captured();
    },
  } as unknown as Queryable;
  try {
    await listFeatures(spy, fq);
  } catch (e) {
    if (!(e instanceof Captured)) throw e;
  }
  const ms = (label: string) => Number(/([\d.]+) ms/.exec(plan.find((l) => l.startsWith(label)) ?? '')?.[1] ?? NaN);
  return { planningMs: ms('Planning Time'), executionMs: ms('Execution Time'), plan };
}

const q = (s: string) => JSON.stringify({ query: s });

/** Waits until the 1-minute load average is below LOADED_AT (the fill's own load decays), at most `maxS`; returns the seconds waited. */
async function waitForQuiet(maxS = 120): Promise<number> {
  const t0 = performance.now();
  while (os.loadavg()[0] > LOADED_AT && performance.now() - t0 < maxS * 1000) await new Promise((r) => setTimeout(r, 2000));
  return Math.round((performance.now() - t0) / 1000);
}
const mib = (b: number) => Math.round(b / 2 ** 20);

/** Bytes of the JavaScript heap still reachable after a full collection (the server's live data, not V8's slack). */
function liveHeapBytes(): number {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

export default async function (h: Bench): Promise<void> {
  const seconds = Number(h.option('seconds', '60'));
  const nCkpts = Number(h.option('ckpts', '1000'));
  const F = Number(h.option('features', '128'));
  const rate = Number(h.option('rate', '200'));
  const nAnalyze = Number(h.option('analyze', '50'));
  const settleMaxS = Number(h.option('settle', '120'));
  const warmupSeconds = Number(h.option('warmup', '10'));
  const cacheOpt = h.option('cache', 'both');
  if (!['both', 'on', 'off'].includes(cacheOpt)) throw new Error(`--cache must be both, on or off (got "${cacheOpt}")`);
  const cacheModes = cacheOpt === 'both' ? (['off', 'on'] as const) : ([cacheOpt] as ('on' | 'off')[]);
  // --keep-db yes: leave the filled database on the DATABASE_URL server (for EXPLAIN by hand)
  const keepDb = h.option('keep-db', 'no') === 'yes';
  if (keepDb && !process.env.DATABASE_URL) throw new Error('--keep-db needs DATABASE_URL (an embedded server stops with the bench)');
  // --db URL: measure a database filled by an earlier `--keep-db yes` run again (no fill)
  const reuseUrl = h.option('db', '');
  if (reuseUrl && keepDb) throw new Error('--db and --keep-db do not go together: --db never drops the database it is given');
  const load0 = os.loadavg()[0];
  const db = reuseUrl ? existingDatabase(reuseUrl) : await scratchDatabase();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-bench-api-scale-'));
  try {
    let realSaes: number[];
    let filled: { fillS: number; alignmentRows: number } | null = null;
    if (reuseUrl) {
      // The real SAEs' files live in the filling run's kept temp folder; without them, no analyzePosition.
      const { rows } = await db.pool.query<{ id: number; path: string }>(`SELECT id, path FROM saes WHERE name LIKE 'bench-real-sae-%' ORDER BY name`);
      realSaes = rows.filter((r) => existsSync(r.path)).map((r) => r.id);
    } else {
      ({ realSaes, ...filled } = await fill(db, { nCkpts, F, tmp }));
    }
    const bspRows = await evaluatedBsps(db);
    const { rows: counts } = await db.pool.query<{ ckpts: string; features: string; alignments: string; best: string }>(
      `SELECT (SELECT count(*) FROM sae_evaluations) AS ckpts, (SELECT count(*) FROM features) AS features,
              (SELECT count(*) FROM feature_alignments) AS alignments, (SELECT count(*) FROM feature_bsp_best) AS best`,
    );
    const sizes = { evaluatedCheckpoints: Number(counts[0].ckpts), features: Number(counts[0].features), alignmentRows: Number(counts[0].alignments), bspBestRows: Number(counts[0].best) };
    if (filled) {
      const { rows: dbSize } = await db.pool.query<{ b: string }>('SELECT pg_database_size(current_database()) AS b');
      h.record('fill', { server: db.server, dbConnection: new URL(db.url).searchParams.get('host')?.startsWith('/') ? 'unix socket' : 'tcp', ...sizes, fillS: Number(filled.fillS.toFixed(1)), alignmentRowsPerSec: Math.round(filled.alignmentRows / filled.fillS), databaseMiB: mib(Number(dbSize[0].b)), load1Before: load0, load1After: os.loadavg()[0] });
    }

    // ---- EXPLAIN ANALYZE of features-by-BSP at this scale (warm: the second of two runs)
    const { rows: probe } = await db.pool.query<{ bsp_id: number; sae_checkpoint_id: string }>(
      'SELECT bsp_id, sae_checkpoint_id FROM feature_bsp_best ORDER BY f1 DESC LIMIT 1',
    );
    const explainCases: Record<string, FeatureQuery> = {
      'explain-features-by-bsp-all-saes': { bspIds: [probe[0].bsp_id], order: 'F1', after: null, limit: 20 },
      'explain-features-by-bsp-one-sae': { bspIds: [probe[0].bsp_id], saeCheckpointIds: [Number(probe[0].sae_checkpoint_id)], order: 'F1', after: null, limit: 20 },
    };
    for (const [name, fq] of Object.entries(explainCases)) {
      await explainListFeatures(db, fq);
      const e = await explainListFeatures(db, fq);
      process.stderr.write(`api-scale: ${name}\n  ${e.plan.join('\n  ')}\n`);
      h.record(name, { ...sizes, planningMs: e.planningMs, executionMs: e.executionMs, plan: e.plan });
    }

    // ---- 2. the query mix at a fixed rate from a second process, per cache mode
    for (const [modeIndex, cacheMode] of cacheModes.entries()) {
      const settledS = await waitForQuiet(settleMaxS);
      // The API's own pool, as `saeboard serve` makes it (10 connections, statement timeout, no JIT).
      const apiPool = createApiPool(db.url, { max: 10, statementTimeoutMs: 10_000 });
      const server = await startServer({ pool: apiPool, port: 0, rateLimit: { perIpPerMinute: 0, perKeyPerMinute: 0 }, responseCacheBytes: cacheMode === 'on' ? undefined : 0 });
      try {
        const post = async (body: string) => {
          const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          const text = await res.text();
          if (!res.ok || text.includes('"errors"')) throw new Error(`warm-up: HTTP ${res.status}: ${text.slice(0, 300)}`);
          return text;
        };
        // BSPs that some feature aligns with (every one of them, in a shuffled but fixed order)
        const names = bspRows.map((b) => b.name).sort((x, y) => createHash('md5').update(x).digest('hex').localeCompare(createHash('md5').update(y).digest('hex')));
        const { rows: someSaes } = await db.pool.query<{ id: string }>(`SELECT id FROM saes ORDER BY id LIMIT 64`);
        // Fixed documents with variables, as the dashboard and generated clients send them (a new
        // document text costs its parse, validation and limit checks once: ~2.7 ms here).
        const withVars = (query: string, variables: object) => JSON.stringify({ query, variables });
        const byBspAllDoc = `query FeaturesByProperty($property: String!) { features(filter: { boardProperty: $property }, first: 20) { edges { alignment { f1 precision recall threshold boardProperty { name } } node { id index maxActivation sae { id name trainer layer } } } pageInfo { hasNextPage endCursor } } }`;
        const byBspOneDoc = `query FeaturesOfSae($property: String!, $sae: ID!) { features(filter: { boardProperty: $property, sae: $sae }, first: 20) { edges { alignment { f1 threshold } node { index maxActivation density } } } }`;
        const leaderboardDoc = `query Leaderboard($layer: Int!) { leaderboard(game: othello, metric: "coverage", family: "board_state", layer: $layer, first: 100) { entries { rank value l0 trainer sae { id name } } randomInit { rank value } } }`;
        const saesByMetricDoc = `query SaesByMetric($metric: String!) { saes(first: 20, filter: { game: othello }, orderBy: { metric: $metric, family: "board_state" }) { edges { node { id name trainer layer dictionarySize } } pageInfo { hasNextPage } } }`;
        const byBspAll = names.map((n) => withVars(byBspAllDoc, { property: n }));
        const byBspOne = names.map((n, i) => withVars(byBspOneDoc, { property: n, sae: someSaes[i % someSaes.length].id }));
        const leaderboard = [0, 1, 2, 3].map((layer) => withVars(leaderboardDoc, { layer }));
        const saesByMetric = ['coverage', 'reconstruction'].map((metric) => withVars(saesByMetricDoc, { metric }));
        const boardProps = [q(`{ boardProperties(first: 20, orderBy: BEST_F1, filter: { game: othello }) { edges { node { id name bestF1 } } pageInfo { hasNextPage } } }`)];
        const mix: LoadPlan['kinds'] = [
          { name: 'features-by-bsp-all-saes', rate: 0.3, connections: 0, bodies: byBspAll },
          { name: 'features-by-bsp-one-sae', rate: 0.2, connections: 0, bodies: byBspOne },
          { name: 'leaderboard', rate: 0.2, connections: 0, bodies: leaderboard },
          { name: 'saes-by-metric', rate: 0.15, connections: 0, bodies: saesByMetric },
          { name: 'board-properties-by-best-f1', rate: 0.15, connections: 0, bodies: boardProps },
        ].map((k) => ({ ...k, rate: Math.max(1, Math.round(k.rate * rate)), connections: Math.max(4, Math.ceil((k.rate * rate) / 5)) }));
        // warm-up: every body once (fails the bench on any GraphQL error), then a few passes of the mix
        const warm0 = performance.now();
        for (const k of mix) for (const b of k.bodies.slice(0, 64)) await post(b);
        const firstPassMs = performance.now() - warm0;
        for (let i = 0; i < 3; i++) for (const k of mix) for (const b of k.bodies.slice(0, 20)) await post(b);
        // service time: one client, one request at a time (what each query costs without queueing)
        for (const k of mix) {
          const lat: number[] = [];
          for (let i = 0; i < 40; i++) {
            const s = performance.now();
            await post(k.bodies[(i * 7) % k.bodies.length]);
            lat.push(performance.now() - s);
          }
          lat.sort((x, y) => x - y);
          h.record(`sequential-${k.name}`, { cache: cacheMode, requests: lat.length, p50Ms: quantile(lat, 0.5), p90Ms: quantile(lat, 0.9), maxMs: quantile(lat, 1) });
        }

        const planFile = path.join(tmp, 'plan.json');
        writeFileSync(planFile, JSON.stringify({ url: server.url, seconds, warmupSeconds, kinds: mix } satisfies LoadPlan));
        const rss: number[] = [];
        const liveBefore = liveHeapBytes();
        const rssBefore = process.memoryUsage().rss;
        const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 250);
        const loadBefore = os.loadavg()[0];
        const cacheBefore = server.cacheStats();
        const driver = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'load-driver.ts');
        let driven: DriveResult;
        // The server runs in this process: its collector and event-loop stalls over the run (warm-up included).
        const serverPauses = watchPauses();
        const cpuBefore = { server: process.cpuUsage(), machine: cpuSnapshot() };
        try {
          driven = await new Promise<DriveResult>((resolve, reject) => {
            const child = spawn(process.execPath, ['--import', 'tsx', driver, planFile], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
            let out = '';
            child.stdout.on('data', (d: Buffer) => (out += d.toString()));
            child.on('error', reject);
            child.on('exit', (code) => {
              if (code !== 0) return reject(new Error(`load driver exited with ${code}`));
              try {
                resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as DriveResult);
              } catch (e) {
                reject(new Error(`load driver printed no result: ${String(e)}: ${out.slice(0, 300)}`));
              }
            });
          });
        } finally {
          clearInterval(sampler);
        }
        const pauses = { server: serverPauses.stop(), driver: driven.driverPauses };
        // What one request costs each process (warm-up included; the server process also runs this bench's sampler).
        const serverCpu = process.cpuUsage(cpuBefore.server);
        const pgCpuMs = postgresCpuMs(cpuBefore.machine, cpuSnapshot());
        const cpuMsPerRequest = {
          server: Number(((serverCpu.user + serverCpu.system) / 1000 / driven.sent).toFixed(3)),
          postgres: pgCpuMs === null ? null : Number((pgCpuMs / driven.sent).toFixed(3)),
        };
        const results: KindResult[] = driven.kinds;
        const liveAfter = liveHeapBytes();
        const rssAfter = process.memoryUsage().rss; // after that full collection
        const loadAfter = os.loadavg()[0];
        const cacheAfter = server.cacheStats();
        const cache =
          cacheBefore && cacheAfter
            ? {
                hitRatio: Number(((cacheAfter.hits - cacheBefore.hits) / Math.max(1, cacheAfter.hits - cacheBefore.hits + cacheAfter.misses - cacheBefore.misses)).toFixed(3)),
                entries: cacheAfter.entries,
                cacheMiB: Number((cacheAfter.bytes / 2 ** 20).toFixed(1)),
              }
            : null;
        const goals: Record<string, string> = {
          'features-by-bsp-all-saes': 'p99 < 50 ms, 0 errors',
          'features-by-bsp-one-sae': 'p99 < 50 ms, 0 errors',
          leaderboard: 'p99 < 50 ms, 0 errors',
        };
        for (const r of results) {
          const failures = r.errors + r.timeouts + r.non2xx + r.graphqlErrors;
          const goal = goals[r.name] ?? '0 errors';
          const met = failures === 0 && (!goals[r.name] || r.p99Ms < 50);
          h.record(r.name, { ...r, cache: cacheMode, seconds, warmupSeconds, arrivals: 'poisson', ...sizes, goal, goalMet: met, settledS, load1Before: loadBefore, load1After: loadAfter });
        }
        const total = results.reduce((s, r) => s + r.requests, 0);
        const rssMax = Math.max(rssBefore, ...rss);
        h.record('mix', {
          cache: cacheMode,
          cacheStats: cache,
          targetRate: rate,
          arrivals: 'poisson (open loop; latency from the scheduled send time)',
          seconds,
          warmupSeconds,
          requests: total,
          reqPerSec: Number((total / seconds).toFixed(1)),
          failures: results.reduce((s, r) => s + r.errors + r.timeouts + r.non2xx + r.graphqlErrors, 0),
          warmFirstPassMs: Math.round(firstPassMs),
          cpuMsPerRequest,
          pauses,
          rssBeforeMiB: mib(rssBefore),
          rssMaxMiB: mib(rssMax),
          rssAfterMiB: mib(rssAfter),
          liveHeapBeforeMiB: mib(liveBefore),
          liveHeapAfterMiB: mib(liveAfter),
          rssSamplesMiB: rss.filter((_, i) => i % 20 === 0).map(mib),
          // RSS alone saw-tooths: V8 grows the heap until a major collection (289 → 472 → 298 MiB
          // in one run). Memory is bounded when what is live after a full collection did not grow
          // and the process gave the rest back.
          goal: 'memory bounded: live heap after a full GC within 1.1× + 16 MiB of before, RSS after it within 1.5× of before',
          goalMet: liveAfter <= 1.1 * liveBefore + 16 * 2 ** 20 && rssAfter < 1.5 * rssBefore,
          load1Before: loadBefore,
          load1After: loadAfter,
        });

        // ---- 3. analyzePosition on the 4 real SAEs (never cached: once)
        if (modeIndex > 0 || realSaes.length < 4 || nAnalyze < 1) continue;
        await initBackend();
        const openings = ['d3 c5 f6 f5', 'f5 d6 c3 d3 c4', 'c4 e3 f6 e6 f5', 'f5 f6 e6 f4', 'd3 c3 c4 e3'];
        const saeList = JSON.stringify(realSaes.map(String));
        const analyze = openings.map((m) =>
          q(`{ analyzePosition(game: othello, moves: "${m}", saes: ${saeList}) { board toMove trueProperties { name } saes { sae { trainer } activeFeatureCount features { featureIndex value relativeActivation trueAlignments { f1 boardProperty { name } } } } } }`),
        );
        const aLoad0 = os.loadavg()[0];
        for (let i = 0; i < 10; i++) await post(analyze[i % analyze.length]);
        const lat: number[] = [];
        for (let i = 0; i < nAnalyze; i++) {
          const s = performance.now();
          await post(analyze[i % analyze.length]);
          lat.push(performance.now() - s);
        }
        lat.sort((x, y) => x - y);
        const aLoad1 = os.loadavg()[0];
        const p50 = quantile(lat, 0.5);
        h.record('analyzePosition-4-saes', {
          model: 'othello-small',
          saes: 4,
          dSae: 1024,
          requests: nAnalyze,
          p50Ms: p50,
          p90Ms: quantile(lat, 0.9),
          maxMs: quantile(lat, 1),
          goal: 'p50 < 100 ms',
          goalMet: p50 < 100,
          load1Before: aLoad0,
          load1After: aLoad1,
        });
      } finally {
        await server.close();
        await apiPool.end();
      }
    }
  } finally {
    if (keepDb) {
      // The real SAEs' files stay with it, so `--db URL` can run analyzePosition too.
      process.stderr.write(`api-scale: database kept: ${db.url} (real SAEs' files in ${tmp}); measure it again with --db ${db.url}\n`);
      await db.pool.end();
    } else {
      await db.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}
