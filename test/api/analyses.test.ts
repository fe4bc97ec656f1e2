/**
 * The analyses over HTTP, on a database the project's own pipeline filled (tiny Othello dataset →
 * tiny GPT → sweep of standard / p-annealing / top-k SAEs with an intermediate and a final
 * checkpoint → evaluation) and then analysed by the ANALYZE job kind. Answers are checked against
 * SQL written here over the evaluation's own tables (features, feature_alignments,
 * feature_activations, board_properties, metric_results), not against the analysis repositories.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { jobKind, validateJobConfig } from '../../src/jobs/kinds.js';
import { makeEvaluatedDatabase, type EvaluatedDatabase } from '../helpers/evaluated-db.js';

interface GqlResult {
  data?: any;
  errors?: { message: string; extensions?: { code?: string } }[];
}

let env: EvaluatedDatabase;
let server: RunningServer;
let saes: number[];
let jobResult: any;

async function gql(query: string, variables: Record<string, unknown> = {}): Promise<GqlResult> {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as GqlResult;
}

async function ok(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const r = await gql(query, variables);
  expect(r.errors).toBeUndefined();
  return r.data;
}

async function sql<T extends pg.QueryResultRow = any>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await env.db.pool.query<T>(text, params)).rows;
}

async function allPages(query: string, field: string, variables: Record<string, unknown>): Promise<any[]> {
  const edges: any[] = [];
  let after: string | null = null;
  for (let i = 0; i < 200; i++) {
    const data = await ok(query, { ...variables, after });
    edges.push(...data[field].edges);
    if (!data[field].pageInfo.hasNextPage) return edges;
    after = data[field].pageInfo.endCursor;
  }
  throw new Error('pagination did not end');
}

async function runAnalyze(config: Record<string, unknown>): Promise<any> {
  const { config: parsed } = validateJobConfig('ANALYZE', config);
  return jobKind('ANALYZE').run(parsed, { pool: env.db.pool, jobId: 0, signal: new AbortController().signal, progress: () => {}, log: () => {} });
}

beforeAll(async () => {
  env = await makeEvaluatedDatabase();
  saes = (await sql('SELECT id FROM saes ORDER BY id')).map((r) => Number(r.id));
  const finals = (await sql('SELECT id FROM sae_checkpoints WHERE is_final ORDER BY sae_id')).map((r) => Number(r.id));
  // per SAE: history, intermediate → final comparison, final analysis; plus two different SAEs compared
  jobResult = await runAnalyze({ saes, compare: [{ a: finals[0], b: finals[2] }] });
  server = await startServer({ pool: env.db.pool, port: 0 });
}, 600_000);

afterAll(async () => {
  await server?.close();
  await env?.cleanup();
});

async function counts() {
  return sql(
    'SELECT (SELECT count(*) FROM feature_explanations)::int AS e, (SELECT count(*) FROM feature_links)::int AS l, (SELECT count(*) FROM bsp_absorption)::int AS b, (SELECT count(*) FROM feature_histories)::int AS h',
  );
}

describe('the ANALYZE job', () => {
  it('a cancelled job stops and writes nothing', async () => {
    const before = await counts();
    const ctl = new AbortController();
    ctl.abort();
    const { config } = validateJobConfig('ANALYZE', { saes });
    await expect(jobKind('ANALYZE').run(config, { pool: env.db.pool, jobId: 0, signal: ctl.signal, progress: () => {}, log: () => {} })).rejects.toThrow(/cancelled/);
    expect(await counts()).toEqual(before);
  });

  it('refuses an empty request and unknown fields before anything runs', () => {
    expect(() => validateJobConfig('ANALYZE', {})).toThrow(/checkpoints, saes or compare/);
    expect(() => validateJobConfig('ANALYZE', { saes: [1], bogus: 1 })).toThrow(/bogus/);
  });

  it('analysed every final checkpoint, compared consecutive checkpoints, and wrote histories', async () => {
    expect(jobResult.checkpoints).toHaveLength(saes.length);
    expect(jobResult.comparisons).toHaveLength(saes.length + 1);
    const [{ n }] = await sql('SELECT count(DISTINCT sae_id)::int AS n FROM feature_histories');
    expect(n).toBe(saes.length);
  });

  it('re-running replaces instead of adding rows, and a failure leaves the previous analysis whole', async () => {
    const before = await sql('SELECT (SELECT count(*) FROM feature_explanations)::int AS e, (SELECT count(*) FROM feature_links)::int AS l, (SELECT count(*) FROM bsp_absorption)::int AS b');
    const final = jobResult.checkpoints[0].saeCheckpointId;
    await runAnalyze({ checkpoints: [final] });
    const after = await sql('SELECT (SELECT count(*) FROM feature_explanations)::int AS e, (SELECT count(*) FROM feature_links)::int AS l, (SELECT count(*) FROM bsp_absorption)::int AS b');
    expect(after).toEqual(before);
    await expect(runAnalyze({ checkpoints: [final], dataset: '/nonexistent/dataset' })).rejects.toThrow();
    const again = await sql('SELECT (SELECT count(*) FROM feature_explanations)::int AS e, (SELECT count(*) FROM feature_links)::int AS l, (SELECT count(*) FROM bsp_absorption)::int AS b');
    expect(again).toEqual(before);
  });
});

const COMPARE = `query($a: ID!, $b: ID!, $first: Int, $after: String, $kinds: [LinkKind!]) {
  compareCheckpoints(a: $a, b: $b, filter: { kinds: $kinds }, first: $first, after: $after) {
    a { id step } b { id step }
    summary { aliveA aliveB matched meanMatchedCosine splits merges deaths births }
    edges { cursor node { kind matched cosine featureA featureB f1A f1B deltaF1 a { id bestF1 } b { id } boardPropertyA { id } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe('compareCheckpoints', () => {
  let a: number;
  let b: number;
  beforeAll(async () => {
    [{ a, b }] = await sql(
      `SELECT c1.id AS a, c2.id AS b FROM sae_checkpoints c1 JOIN sae_checkpoints c2 ON c2.sae_id = c1.sae_id AND c2.is_final AND NOT c1.is_final ORDER BY c1.sae_id LIMIT 1`,
    );
  });

  it('links every alive feature of A and of B (a match, split, merge, or a death / birth), paged without gaps', async () => {
    const edges = await allPages(COMPARE, 'compareCheckpoints', { a: String(a), b: String(b), first: 7 });
    const nodes = edges.map((e) => e.node);
    const aliveA = (await sql('SELECT feature_index FROM features WHERE sae_checkpoint_id = $1 AND alive ORDER BY 1', [a])).map((r) => r.feature_index);
    const aliveB = (await sql('SELECT feature_index FROM features WHERE sae_checkpoint_id = $1 AND alive ORDER BY 1', [b])).map((r) => r.feature_index);
    const seenA = [...new Set(nodes.filter((n) => n.featureA !== null).map((n) => n.featureA))].sort((x, y) => x - y);
    const seenB = [...new Set(nodes.filter((n) => n.featureB !== null).map((n) => n.featureB))].sort((x, y) => x - y);
    expect(seenA).toEqual(aliveA);
    expect(seenB).toEqual(aliveB);
    const { summary } = (await ok(COMPARE, { a: String(a), b: String(b), first: 1 })).compareCheckpoints;
    expect(summary.aliveA).toBe(aliveA.length);
    expect(summary.aliveB).toBe(aliveB.length);
    expect(nodes.filter((n) => n.matched)).toHaveLength(summary.matched);
    expect(nodes.filter((n) => n.kind === 'DEATH')).toHaveLength(summary.deaths);
    expect(nodes.filter((n) => n.kind === 'BIRTH')).toHaveLength(summary.births);
    // one-to-one: no feature of A or B in two matched pairs
    const matched = nodes.filter((n) => n.matched);
    expect(new Set(matched.map((n) => n.featureA)).size).toBe(matched.length);
    expect(new Set(matched.map((n) => n.featureB)).size).toBe(matched.length);
    // each pair's F1s are the features' best F1s (features table), the change is B − A
    for (const n of nodes.filter((x) => x.featureA !== null && x.featureB !== null).slice(0, 20)) {
      const [fa] = await sql('SELECT best_f1 FROM features WHERE sae_checkpoint_id = $1 AND feature_index = $2', [a, n.featureA]);
      const [fb] = await sql('SELECT best_f1 FROM features WHERE sae_checkpoint_id = $1 AND feature_index = $2', [b, n.featureB]);
      if (fa.best_f1 !== null) expect(n.f1A).toBeCloseTo(fa.best_f1, 5);
      if (fb.best_f1 !== null) expect(n.f1B).toBeCloseTo(fb.best_f1, 5);
      if (n.f1A !== null && n.f1B !== null) expect(n.deltaF1).toBeCloseTo(n.f1B - n.f1A, 6);
      expect(n.a.id).toBe(`${a}:${n.featureA}`);
    }
  });

  it('cosines are the decoders’ (checked for the matched pairs from the SAE files by the test)', async () => {
    const { loadSae } = await import('../../src/sae/interop.js');
    const [pa] = await sql('SELECT path FROM sae_checkpoints WHERE id = $1', [a]);
    const [pb] = await sql('SELECT path FROM sae_checkpoints WHERE id = $1', [b]);
    const load = async (p: string) => {
      const { dictionary } = await loadSae(p);
      const w = dictionary.toHost().W_dec;
      dictionary.dispose();
      return w;
    };
    const wa = await load(pa.path);
    const wb = await load(pb.path);
    const d = wa.shape[1];
    const row = (w: typeof wa, i: number) => w.data.subarray(i * d, i * d + d);
    const cos = (x: Float32Array, y: Float32Array) => {
      let s = 0,
        nx = 0,
        ny = 0;
      for (let t = 0; t < d; t++) (s += x[t] * y[t]), (nx += x[t] * x[t]), (ny += y[t] * y[t]);
      return s / Math.sqrt(nx * ny);
    };
    const edges = await allPages(COMPARE, 'compareCheckpoints', { a: String(a), b: String(b), first: 100, kinds: ['MATCH', 'SPLIT', 'MERGE'] });
    expect(edges.length).toBeGreaterThan(0);
    for (const e of edges) expect(e.node.cosine).toBeCloseTo(cos(row(wa, e.node.featureA), row(wb, e.node.featureB)), 4);
  });

  it('filters by kind; an uncompared pair is NOT_FOUND, a bad cursor BAD_USER_INPUT', async () => {
    const deaths = await allPages(COMPARE, 'compareCheckpoints', { a: String(a), b: String(b), kinds: ['DEATH'], first: 100 });
    const [{ n }] = await sql(
      `SELECT count(*)::int AS n FROM feature_links l JOIN checkpoint_comparisons c ON c.id = l.comparison_id WHERE c.checkpoint_a = $1 AND c.checkpoint_b = $2 AND l.kind = 'death'`,
      [a, b],
    );
    expect(deaths).toHaveLength(n);
    expect(deaths.every((e) => e.node.kind === 'DEATH' && e.node.featureB === null && e.node.b === null)).toBe(true);
    const missing = await gql(COMPARE, { a: String(b), b: String(a) });
    expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const bad = await gql(COMPARE, { a: String(a), b: String(b), after: 'nope' });
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('featureHistory and learningOrder', () => {
  /** Per final feature with a best BSP: its best F1 with that BSP at each evaluated checkpoint, from feature_alignments. */
  async function expectedHistories(saeId: number) {
    return sql(
      `WITH ck AS (SELECT c.id, c.step FROM sae_checkpoints c WHERE c.sae_id = $1 AND EXISTS (SELECT 1 FROM sae_evaluations e WHERE e.sae_checkpoint_id = c.id)),
            fin AS (SELECT f.feature_index, f.best_bsp_id FROM features f WHERE f.sae_checkpoint_id = (SELECT id FROM ck ORDER BY step DESC LIMIT 1) AND f.alive AND f.best_bsp_id IS NOT NULL)
       SELECT fin.feature_index, fin.best_bsp_id AS bsp, array_agg(ck.step ORDER BY ck.step) AS steps,
              array_agg(coalesce((SELECT max(a.f1) FROM feature_alignments a WHERE a.sae_checkpoint_id = ck.id AND a.feature_index = fin.feature_index AND a.bsp_id = fin.best_bsp_id), 0) ORDER BY ck.step) AS f1
       FROM fin CROSS JOIN ck GROUP BY fin.feature_index, fin.best_bsp_id ORDER BY fin.feature_index`,
      [saeId],
    );
  }

  it('gives each feature’s F1 with its final property per checkpoint and the first step ≥ 0.5', async () => {
    const rows = await expectedHistories(saes[0]);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows.slice(0, 10)) {
      const { featureHistory: h } = await ok(
        `query($sae: ID!, $f: Int!) { featureHistory(sae: $sae, feature: $f) { featureIndex level firstStep stableStep finalF1 points { step f1 saeCheckpoint { step } } boardProperty { id } feature { id } } }`,
        { sae: String(saes[0]), f: r.feature_index },
      );
      expect(h.boardProperty.id).toBe(String(r.bsp));
      expect(h.points.map((p: any) => p.step)).toEqual(r.steps.map(Number));
      h.points.forEach((p: any, i: number) => {
        expect(p.f1).toBeCloseTo(r.f1[i], 5);
        expect(p.saeCheckpoint.step).toBe(p.step);
      });
      const first = r.steps.find((_: unknown, i: number) => r.f1[i] >= 0.5);
      expect(h.firstStep).toBe(first === undefined ? null : Number(first));
    }
  });

  it('a feature without a final property has no history; an SAE never analysed is NOT_FOUND', async () => {
    const [dead] = await sql(`SELECT f.feature_index FROM features f JOIN sae_checkpoints c ON c.id = f.sae_checkpoint_id AND c.is_final WHERE c.sae_id = $1 AND (NOT f.alive OR f.best_bsp_id IS NULL) LIMIT 1`, [saes[0]]);
    if (dead) expect((await ok(`{ featureHistory(sae: "${saes[0]}", feature: ${dead.feature_index}) { featureIndex } }`)).featureHistory).toBeNull();
    const r = await gql(`{ featureHistory(sae: "999999", feature: 0) { featureIndex } }`);
    expect(r.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('orders board properties by the step they are first learnt at, never-learnt last', async () => {
    const rows = await expectedHistories(saes[1]);
    const byBsp = new Map<number, number | null>();
    for (const r of rows) {
      const i = r.f1.findIndex((x: number) => x >= 0.5);
      const step = i < 0 ? null : Number(r.steps[i]);
      const cur = byBsp.get(r.bsp);
      if (cur === undefined || (step !== null && (cur === null || step < cur))) byBsp.set(r.bsp, step);
    }
    const expected = [...byBsp.entries()].sort((x, y) => (x[1] ?? Infinity) - (y[1] ?? Infinity) || x[0] - y[0]);
    const edges = await allPages(`query($sae: ID!, $first: Int, $after: String) { learningOrder(sae: $sae, first: $first, after: $after) { edges { node { firstStep features boardProperty { id } } } pageInfo { hasNextPage endCursor } } }`, 'learningOrder', {
      sae: String(saes[1]),
      first: 4,
    });
    expect(edges.map((e) => [Number(e.node.boardProperty.id), e.node.firstStep])).toEqual(expected);
  });
});

describe('explanations', () => {
  let final: number;
  let split: { train: { start: number; end: number }; test: { start: number; end: number } };
  beforeAll(async () => {
    final = jobResult.checkpoints[0].saeCheckpointId;
    const [ev] = await sql('SELECT eval_config FROM sae_evaluations WHERE sae_checkpoint_id = $1', [final]);
    split = ev.eval_config.splits;
  });

  it('Feature.explanations: readable text from the catalogue names; held-out counts match the stored activations', async () => {
    const rows = await sql(`SELECT feature_index FROM feature_explanations WHERE sae_checkpoint_id = $1 AND rank = 0 ORDER BY f1 DESC, feature_index LIMIT 5`, [final]);
    expect(rows.length).toBeGreaterThan(0);
    for (const { feature_index } of rows) {
      const { feature } = await ok(`query($id: ID!) { feature(id: $id) { maxActivation explanations { rank kind text threshold precision recall f1 tp onCount truthCount boardProperties { id name } } } }`, {
        id: `${final}:${feature_index}`,
      });
      const [e] = feature.explanations;
      expect(e.rank).toBe(0);
      const names = e.boardProperties.map((b: any) => b.name);
      expect(e.text).toBe(e.kind === 'single' ? names[0] : `${names[0]} ${e.kind.toUpperCase()} ${names[1]}`);
      // on-count on D_test from the stored activations: value > threshold · max activation (the features table's maximum)
      const [{ on }] = await sql(
        `SELECT count(*)::int AS on FROM feature_activations a JOIN features f ON f.sae_checkpoint_id = a.sae_checkpoint_id AND f.feature_index = a.feature_index
         WHERE a.sae_checkpoint_id = $1 AND a.feature_index = $2 AND (a.position_key >> 10) >= $3 AND (a.position_key >> 10) < $4
           AND a.value > ($5::real * f.max_activation)::real`,
        [final, feature_index, split.test.start, split.test.end, e.threshold],
      );
      expect(e.onCount).toBe(on);
      expect(e.precision).toBeCloseTo(e.onCount ? e.tp / e.onCount : 0, 5);
      expect(e.recall).toBeCloseTo(e.truthCount ? e.tp / e.truthCount : 0, 5);
      expect(e.f1).toBeCloseTo(e.tp ? (2 * e.tp) / (e.onCount + e.truthCount) : 0, 5);
    }
  });

  it('features(filter: { explanationContains }) finds the features whose explanation says so', async () => {
    const [{ text }] = await sql(`SELECT text FROM feature_explanations WHERE sae_checkpoint_id = $1 AND rank = 0 ORDER BY f1 DESC, feature_index LIMIT 1`, [final]);
    const needle = text.split(' ').slice(0, 2).join(' ').toUpperCase();
    const edges = await allPages(
      `query($q: String, $first: Int, $after: String) { features(filter: { explanationContains: $q }, orderBy: MAX_ACTIVATION, first: $first, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
      'features',
      { q: needle, first: 10 },
    );
    const expected = await sql(
      `SELECT e.sae_checkpoint_id || ':' || e.feature_index AS id FROM feature_explanations e JOIN sae_checkpoints c ON c.id = e.sae_checkpoint_id AND c.is_final
       WHERE e.rank = 0 AND position(lower($1) in lower(e.text)) > 0`,
      [needle],
    );
    expect(edges.map((e) => e.node.id).sort()).toEqual(expected.map((r) => r.id).sort());
    expect(edges.length).toBeGreaterThan(0);
    const none = await ok(`{ features(filter: { explanationContains: "100%_no such thing" }) { edges { node { id } } } }`);
    expect(none.features.edges).toEqual([]);
    const bad = await gql(`{ features(filter: { explanationContains: "  " }) { edges { node { id } } } }`);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('SaeCheckpoint.explainedShare is the share of alive features explained at held-out F1 ≥ 0.5 / 0.8', async () => {
    const data = await ok(`query($id: ID!) { sae(id: $id) { checkpoints { id isFinal explainedShare { atF1_50 atF1_80 aliveFeatures absorption splitting } } } }`, { id: String(saes[0]) });
    const fin = data.sae.checkpoints.find((c: any) => c.isFinal);
    const [{ alive, at50, at80 }] = await sql(
      `SELECT (SELECT count(*) FROM features WHERE sae_checkpoint_id = $1 AND alive)::int AS alive,
              (SELECT count(*) FROM feature_explanations WHERE sae_checkpoint_id = $1 AND rank = 0 AND f1 >= 0.5)::int AS at50,
              (SELECT count(*) FROM feature_explanations WHERE sae_checkpoint_id = $1 AND rank = 0 AND f1 >= 0.8)::int AS at80`,
      [fin.id],
    );
    expect(fin.explainedShare.aliveFeatures).toBe(alive);
    expect(fin.explainedShare.atF1_50).toBeCloseTo(at50 / alive, 6);
    expect(fin.explainedShare.atF1_80).toBeCloseTo(at80 / alive, 6);
    expect(data.sae.checkpoints.find((c: any) => !c.isFinal).explainedShare).toBeNull();
  });
});

describe('absorption and splitting per board property', () => {
  it('SaeCheckpoint.boardPropertyAnalyses pages the stored rows, most absorbed first, unscored last', async () => {
    const final = jobResult.checkpoints[2].saeCheckpointId;
    const q = `query($id: ID!, $first: Int, $after: String, $order: BspAnalysisOrder!) { saeCheckpoint(id: $id) {
      boardPropertyAnalyses(orderBy: $order, first: $first, after: $after) {
        edges { node { boardProperty { id } absorption splitting missed absorbed mainFeatures bestF1 bestFeature { index } topAbsorber { index } } }
        pageInfo { hasNextPage endCursor } } } }`;
    const pages = async (order: string) => {
      const edges: any[] = [];
      let after: string | null = null;
      for (;;) {
        const d: any = (await ok(q, { id: String(final), first: 7, after, order })).saeCheckpoint.boardPropertyAnalyses;
        edges.push(...d.edges);
        if (!d.pageInfo.hasNextPage) return edges.map((e) => e.node);
        after = d.pageInfo.endCursor;
      }
    };
    const byAbsorption = await pages('ABSORPTION');
    const expected = await sql(
      `SELECT bp.id, b.absorption, b.missed, b.absorbed, b.main_features FROM bsp_absorption b JOIN board_properties bp ON bp.id = b.bsp_id
       WHERE b.sae_checkpoint_id = $1 ORDER BY b.absorption DESC NULLS LAST, bp.id`,
      [final],
    );
    expect(byAbsorption.map((n) => Number(n.boardProperty.id))).toEqual(expected.map((r) => r.id));
    byAbsorption.forEach((n, i) => {
      expect(n.missed).toBe(expected[i].missed);
      expect(n.absorbed).toBe(expected[i].absorbed);
      expect(n.mainFeatures).toEqual(expected[i].main_features);
      if (n.absorption !== null) expect(n.absorption).toBeCloseTo(n.missed ? n.absorbed / n.missed : 0, 5);
      if (n.mainFeatures.length) expect(n.bestFeature.index).toBe(n.mainFeatures[0]);
    });
    const bySplit = await pages('SPLITTING');
    expect(bySplit).toHaveLength(expected.length);
    const ks = bySplit.map((n) => n.splitting ?? -1);
    expect(ks).toEqual([...ks].sort((x, y) => y - x));
  });
});

describe('absorption and splitting as metrics', () => {
  it('are metric rows under the evaluation’s eval-config hash, equal to the per-BSP means', async () => {
    const rows = await sql(
      `SELECT m.sae_checkpoint_id, m.value, m.eval_config_hash, e.eval_config_hash AS eval_hash,
              (SELECT avg(absorption) FROM bsp_absorption b WHERE b.sae_checkpoint_id = m.sae_checkpoint_id AND b.absorption IS NOT NULL) AS mean
       FROM metric_results m JOIN sae_evaluations e ON e.sae_checkpoint_id = m.sae_checkpoint_id WHERE m.metric = 'absorption' AND m.family = ''`,
    );
    expect(rows.length).toBe(saes.length);
    for (const r of rows) {
      expect(r.eval_config_hash).toBe(r.eval_hash);
      expect(r.value).toBeCloseTo(Number(r.mean), 5);
      expect(r.value).toBeGreaterThanOrEqual(0);
      expect(r.value).toBeLessThanOrEqual(1);
    }
  });

  it('the leaderboard ranks absorption lowest first', async () => {
    // the tiny pipeline's LM may count as trained or random-init: both lists are ranked the same way
    const data = await ok(`{ leaderboard(game: othello, metric: "absorption") { entries { rank value } randomInit { rank value } } }`);
    const expected = await sql(
      `SELECT m.value FROM metric_results m JOIN sae_checkpoints c ON c.id = m.sae_checkpoint_id AND c.is_final WHERE m.metric = 'absorption' AND m.family = '' ORDER BY m.value ASC, c.sae_id`,
    );
    const lb = data.leaderboard.entries.length ? data.leaderboard.entries : data.leaderboard.randomInit;
    expect(lb.map((e: any) => e.value)).toEqual(expected.map((r) => r.value));
    expect(lb.map((e: any) => e.rank)).toEqual(lb.map((_: unknown, i: number) => i + 1));
    const coverage = await ok(`{ leaderboard(game: othello, metric: "coverage", family: "board_state") { entries { value } randomInit { value } } }`);
    const v = [coverage.leaderboard.entries, coverage.leaderboard.randomInit].find((x: any[]) => x.length).map((e: any) => e.value);
    expect(v).toEqual([...v].sort((x: number, y: number) => y - x));
  });
});
