/**
 * The read API over HTTP against a database the project's own pipeline filled (tiny Othello
 * dataset → tiny GPT → activations → sweep of standard / p-annealing / top-k SAEs → evaluation of
 * every checkpoint). Every answer is checked against SQL written here, independently of the
 * repositories: over feature_alignments (not the feature_bsp_best summary the API reads), features,
 * metric_results and feature_activations.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { makeEvaluatedDatabase, type EvaluatedDatabase } from '../helpers/evaluated-db.js';

interface GqlResult {
  data?: any;
  errors?: { message: string; extensions?: { code?: string } }[];
}

let env: EvaluatedDatabase;
let server: RunningServer;
let statements = 0;

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

/** Every page of a connection, following endCursor. */
async function allPages(query: string, field: string, variables: Record<string, unknown>): Promise<any[]> {
  const edges: any[] = [];
  let after = (variables.after as string | undefined) ?? null;
  for (let i = 0; i < 100; i++) {
    const data = await ok(query, { ...variables, after });
    edges.push(...data[field].edges);
    if (!data[field].pageInfo.hasNextPage) return edges;
    after = data[field].pageInfo.endCursor;
  }
  throw new Error('pagination did not end');
}

beforeAll(async () => {
  env = await makeEvaluatedDatabase();
  // Count the statements the server sends: the pool the server gets wraps query().
  const pool = env.db.pool;
  const counting = Object.create(pool) as pg.Pool;
  counting.query = ((...args: Parameters<pg.Pool['query']>) => {
    statements++;
    return (pool.query as (...a: unknown[]) => unknown)(...args);
  }) as pg.Pool['query'];
  server = await startServer({ pool: counting, port: 0 });
}, 300_000);

afterAll(async () => {
  await server?.close();
  await env?.cleanup();
});

const FEATURES_BY_BSP = `query($bsp: String, $family: String, $square: String, $first: Int, $after: String, $order: FeatureOrder! = F1, $sae: ID, $threshold: Float, $trainer: String) {
  features(filter: { boardProperty: $bsp, family: $family, square: $square, sae: $sae, threshold: $threshold, trainer: $trainer }, orderBy: $order, first: $first, after: $after) {
    edges { cursor node { id index saeCheckpoint { id isFinal } sae { id trainer } } alignment { f1 precision recall threshold tp fp fn boardProperty { id name } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe('features by board property', () => {
  let bsp: { id: number; name: string; best: number };
  beforeAll(async () => {
    // The board property with the most aligned (final checkpoint) features, from the raw alignment partitions.
    [bsp] = await sql(
      `SELECT bp.id, bp.name, max(a.f1) AS best FROM feature_alignments a
       JOIN sae_checkpoints c ON c.id = a.sae_checkpoint_id AND c.is_final JOIN board_properties bp ON bp.id = a.bsp_id
       WHERE a.f1 > 0 GROUP BY bp.id, bp.name ORDER BY count(DISTINCT (a.sae_checkpoint_id, a.feature_index)) DESC, bp.id LIMIT 1`,
    );
    expect(bsp).toBeDefined();
  });

  it('finds them by readable name, best F1 first, each at its best threshold', async () => {
    const edges = await allPages(FEATURES_BY_BSP, 'features', { bsp: bsp.name.toUpperCase(), first: 5 });
    expect(edges.length).toBeGreaterThan(1);
    expect(edges[0].alignment.f1).toBeCloseTo(bsp.best, 6);
    const f1s = edges.map((e) => e.alignment.f1);
    expect(f1s).toEqual([...f1s].sort((a, b) => b - a));
    for (const e of edges) {
      expect(e.node.saeCheckpoint.isFinal).toBe(true);
      expect(e.alignment.boardProperty.id).toBe(String(bsp.id));
      const [ckpt, index] = e.node.id.split(':').map(Number);
      const [best] = await sql(
        `SELECT f1, precision, recall, threshold, tp, fp, fn FROM feature_alignments WHERE sae_checkpoint_id = $1 AND feature_index = $2 AND bsp_id = $3
         ORDER BY f1 DESC, threshold_index LIMIT 1`,
        [ckpt, index, bsp.id],
      );
      expect(e.alignment.f1).toBeCloseTo(best.f1, 6);
      expect(e.alignment.threshold).toBeCloseTo(best.threshold, 6);
      expect([e.alignment.tp, e.alignment.fp, e.alignment.fn]).toEqual([best.tp, best.fp, best.fn]);
    }
    // Per SAE checkpoint the API keeps the best 8: every final checkpoint's best feature for this BSP is there.
    const perCkpt = await sql(
      `SELECT DISTINCT ON (a.sae_checkpoint_id) a.sae_checkpoint_id, a.f1 FROM feature_alignments a JOIN sae_checkpoints c ON c.id = a.sae_checkpoint_id AND c.is_final
       WHERE a.bsp_id = $1 AND a.f1 > 0 ORDER BY a.sae_checkpoint_id, a.f1 DESC`,
      [bsp.id],
    );
    for (const p of perCkpt) expect(edges.some((e) => Number(e.node.saeCheckpoint.id) === p.sae_checkpoint_id && Math.abs(e.alignment.f1 - p.f1) < 1e-6)).toBe(true);
  });

  it('costs one SQL statement a page by name once the server holds the name and the SAEs, whatever its size', async () => {
    // The bench's question (bench/api-scale): edges with the alignment's property and the node's SAE.
    const query = `query($bsp: String!, $first: Int) { features(filter: { boardProperty: $bsp }, first: $first) {
      edges { alignment { f1 precision recall threshold boardProperty { name } } node { id index maxActivation sae { id name trainer layer } } }
      pageInfo { hasNextPage endCursor } } }`;
    const count = async (first: number) => {
      const before = statements;
      const data = await ok(query, { bsp: bsp.name, first });
      const edges = data.features.edges;
      expect(edges.length).toBeGreaterThan(0);
      for (const e of edges) expect(e.alignment.boardProperty.name).toBe(bsp.name);
      // Each node's SAE is its checkpoint's SAE.
      const saes = await sql(`SELECT c.id || ':' AS ckpt, s.id, s.name FROM sae_checkpoints c JOIN saes s ON s.id = c.sae_id`);
      for (const e of edges) {
        const s = saes.find((r) => e.node.id.startsWith(r.ckpt))!;
        expect([e.node.sae.id, e.node.sae.name]).toEqual([String(s.id), s.name]);
      }
      return statements - before;
    };
    // The first question with a name looks the name and the page's SAEs up (then the process caches hold them).
    // (Each a new question: the response cache would answer a repeated one with no statement.)
    expect(await count(100)).toBeLessThanOrEqual(3);
    expect(await count(2)).toBe(1);
    expect(await count(99)).toBe(1);
  });

  it('sees a renamed SAE and a new checkpoint at the next requests (the process caches drop them on the results feed)', async () => {
    const [s] = await sql(`SELECT id, name FROM saes ORDER BY id LIMIT 1`);
    const q = `query($id: ID!) { sae(id: $id) { name checkpoints { step isFinal } } features(filter: { sae: $id, allCheckpoints: true }, first: 1) { edges { node { id } } } }`;
    const before = (await ok(q, { id: String(s.id) })).sae;
    expect(before.name).toBe(s.name);
    await ok(q, { id: String(s.id) });
    await sql(`UPDATE saes SET name = name || '-renamed' WHERE id = $1`, [s.id]);
    const [last] = await sql(`SELECT * FROM sae_checkpoints WHERE sae_id = $1 ORDER BY step DESC LIMIT 1`, [s.id]);
    await sql(
      `INSERT INTO sae_checkpoints (sae_id, step, tokens_seen, is_final, path, weights_sha256) VALUES ($1, $2, $3, false, $4, $5)`,
      [s.id, last.step + 1000, last.tokens_seen, `${last.path}-later`, last.weights_sha256],
    );
    try {
      const until = Date.now() + 5000;
      let now = before;
      while (Date.now() < until) {
        now = (await ok(q, { id: String(s.id) })).sae;
        if (now.name === `${s.name}-renamed` && now.checkpoints.length === before.checkpoints.length + 1) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(now.name).toBe(`${s.name}-renamed`);
      expect(now.checkpoints.map((c: { step: number }) => c.step)).toEqual([...before.checkpoints.map((c: { step: number }) => c.step), last.step + 1000]);
    } finally {
      await sql(`DELETE FROM sae_checkpoints WHERE sae_id = $1 AND step = $2`, [s.id, last.step + 1000]);
      await sql(`UPDATE saes SET name = $2 WHERE id = $1`, [s.id, s.name]);
    }
  });

  it('a name shared by two properties (two families) pages through both, merged in F1 order, equal to SQL', async () => {
    // Another aligned property takes this one's name for the test (as "a1 is mine" names two Othello families).
    const [other] = await sql(
      `SELECT bp.id, bp.name FROM board_properties bp WHERE bp.id <> $1 AND EXISTS (SELECT 1 FROM feature_bsp_best b WHERE b.bsp_id = bp.id AND b.f1 > 0) ORDER BY bp.id LIMIT 1`,
      [bsp.id],
    );
    expect(other).toBeDefined();
    await sql(`UPDATE board_properties SET name = $1 WHERE id = $2`, [bsp.name, other.id]);
    try {
      const expected = await sql(
        `SELECT b.sae_checkpoint_id || ':' || b.feature_index || '/' || b.bsp_id AS key FROM feature_bsp_best b JOIN sae_checkpoints c ON c.id = b.sae_checkpoint_id AND c.is_final
         WHERE b.bsp_id = ANY($1::int[]) AND b.f1 > 0 ORDER BY b.f1 DESC, b.sae_checkpoint_id, b.feature_index, b.bsp_id`,
        [[bsp.id, other.id]],
      );
      expect(new Set(expected.map((r) => r.key.split('/')[1]))).toEqual(new Set([String(bsp.id), String(other.id)]));
      const edges = await allPages(FEATURES_BY_BSP, 'features', { bsp: bsp.name, first: 2 });
      expect(edges.map((e) => `${e.node.id}/${e.alignment.boardProperty.id}`)).toEqual(expected.map((r) => r.key));
    } finally {
      await sql(`UPDATE board_properties SET name = $1 WHERE id = $2`, [other.name, other.id]);
    }
  });

  it('pages without repeats or gaps: small pages equal one big page', async () => {
    const small = await allPages(FEATURES_BY_BSP, 'features', { bsp: String(bsp.id), first: 3 });
    const big = (await ok(FEATURES_BY_BSP, { bsp: String(bsp.id), first: 100 })).features.edges;
    expect(small.map((e) => `${e.node.id}/${e.alignment.boardProperty.id}`)).toEqual(big.map((e: any) => `${e.node.id}/${e.alignment.boardProperty.id}`));
    expect(new Set(small.map((e) => e.node.id)).size).toBe(small.length);
  });

  it('within one SAE reads every pair from its partition; a threshold filter takes that threshold', async () => {
    const [{ sae_id }] = await sql(`SELECT c.sae_id FROM feature_alignments a JOIN sae_checkpoints c ON c.id = a.sae_checkpoint_id AND c.is_final WHERE a.bsp_id = $1 AND a.f1 > 0 LIMIT 1`, [bsp.id]);
    const edges = await allPages(FEATURES_BY_BSP, 'features', { bsp: String(bsp.id), sae: String(sae_id), first: 50 });
    const [{ n }] = await sql(
      `SELECT count(DISTINCT a.feature_index)::int AS n FROM feature_alignments a JOIN sae_checkpoints c ON c.id = a.sae_checkpoint_id AND c.is_final
       WHERE c.sae_id = $1 AND a.bsp_id = $2`,
      [sae_id, bsp.id],
    );
    expect(edges.length).toBe(n);
    const at = await allPages(FEATURES_BY_BSP, 'features', { bsp: String(bsp.id), threshold: 0.3, first: 50 });
    const [{ m }] = await sql(
      `SELECT count(*)::int AS m FROM feature_alignments a JOIN sae_checkpoints c ON c.id = a.sae_checkpoint_id AND c.is_final WHERE a.bsp_id = $1 AND a.threshold_index = 3 AND a.f1 > 0`,
      [bsp.id],
    );
    expect(at.length).toBe(m);
    for (const e of at) expect(e.alignment.threshold).toBeCloseTo(0.3, 6);
  });

  it('filters by family and square, and by trainer', async () => {
    const edges = await allPages(FEATURES_BY_BSP, 'features', { family: 'board_state', square: 'd4', first: 100, trainer: 'top_k' });
    expect(edges.length).toBeGreaterThan(0);
    for (const e of edges) {
      expect(e.node.sae.trainer).toBe('top_k');
      expect(e.alignment.boardProperty.name).toMatch(/d4/);
    }
  });

  it('orders by precision and recall of the pair', async () => {
    for (const order of ['PRECISION', 'RECALL'] as const) {
      const edges = (await ok(FEATURES_BY_BSP, { bsp: String(bsp.id), first: 50, order })).features.edges;
      const values = edges.map((e: any) => (order === 'PRECISION' ? e.alignment.precision : e.alignment.recall));
      expect(values).toEqual([...values].sort((a: number, b: number) => b - a));
    }
  });

  it('an unknown board property is BAD_USER_INPUT with the closest names', async () => {
    const r = await gql(FEATURES_BY_BSP, { bsp: bsp.name.replace(/ /, '  x') });
    expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0].message).toContain(`"${bsp.name}"`);
  });

  it('rejects bad arguments with BAD_USER_INPUT: page size, cursor, order without a BSP', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [FEATURES_BY_BSP, { bsp: String(bsp.id), first: 101 }, /first must be an integer from 0 to 100/],
      [FEATURES_BY_BSP, { bsp: String(bsp.id), after: 'bm90LWEtY3Vyc29y' }, /invalid cursor/],
      [FEATURES_BY_BSP, { order: 'PRECISION' }, /needs a board-property filter/],
      [FEATURES_BY_BSP, { bsp: String(bsp.id), threshold: 0.35 }, /threshold must be one of/],
      [FEATURES_BY_BSP, { family: 'board_stat' }, /did you mean "board_state"/],
      [FEATURES_BY_BSP, { trainer: 'nope' }, /unknown trainer/],
    ];
    for (const [q, v, message] of cases) {
      const r = await gql(q, v);
      expect(r.errors?.[0].extensions?.code, JSON.stringify(v)).toBe('BAD_USER_INPUT');
      expect(r.errors?.[0].message).toMatch(message);
    }
    // A cursor of another order is refused too.
    const page = (await ok(FEATURES_BY_BSP, { bsp: String(bsp.id), first: 1 })).features;
    const r = await gql(FEATURES_BY_BSP, { bsp: String(bsp.id), order: 'RECALL', after: page.pageInfo.endCursor });
    expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

const FEATURE_PAGE = `query($first: Int, $after: String) {
  features(filter: { allCheckpoints: true }, orderBy: MAX_ACTIVATION, first: $first, after: $after) {
    edges { node { id maxActivation density alive bestF1 histogram
      sae { id name trainer layer lmCheckpoint { id model { name } } }
      saeCheckpoint { id step }
      bestBoardProperty { name }
      topExamples(first: 3) { rank activation board gameIndex positionIndex }
      alignments(first: 2) { f1 boardProperty { name } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe('features without a board property', () => {
  it('lists features by max activation across checkpoints, with their relations, equal to SQL', async () => {
    const edges = await allPages(FEATURE_PAGE, 'features', { first: 40 });
    const rows = await sql(`SELECT sae_checkpoint_id || ':' || feature_index AS id, max_activation FROM features ORDER BY max_activation DESC, sae_checkpoint_id, feature_index`);
    expect(edges.map((e) => e.node.id)).toEqual(rows.map((r) => r.id));
    const withExamples = edges.find((e) => e.node.topExamples.length > 0)!.node;
    const [ckpt, index] = withExamples.id.split(':').map(Number);
    const ex = await sql(`SELECT rank, activation, board FROM feature_examples WHERE sae_checkpoint_id = $1 AND feature_index = $2 ORDER BY rank LIMIT 3`, [ckpt, index]);
    expect(withExamples.topExamples.map((e: any) => [e.rank, e.board])).toEqual(ex.map((e) => [e.rank, e.board]));
    expect(withExamples.topExamples[0].board).toMatch(/^[XO.]{64}$/);
  });

  it('filters by game, LM, layer and trainer (each only joining what it needs), equal to SQL', async () => {
    const [pick] = await sql(
      `SELECT lm.name AS lm, s.layer, s.trainer FROM saes s JOIN lm_checkpoints lc ON lc.id = s.lm_checkpoint_id JOIN lm_models lm ON lm.id = lc.lm_model_id
       JOIN sae_checkpoints c ON c.sae_id = s.id AND c.is_final JOIN features f ON f.sae_checkpoint_id = c.id ORDER BY s.id LIMIT 1`,
    );
    const query = `query($f: FeatureFilter, $first: Int, $after: String) { features(filter: $f, orderBy: MAX_ACTIVATION, first: $first, after: $after) {
      edges { node { id } } pageInfo { hasNextPage endCursor } } }`;
    const expected = (where: string, params: unknown[]) =>
      sql(
        `SELECT f.sae_checkpoint_id || ':' || f.feature_index AS id FROM features f JOIN sae_checkpoints c ON c.id = f.sae_checkpoint_id AND c.is_final
         JOIN saes s ON s.id = c.sae_id JOIN lm_checkpoints lc ON lc.id = s.lm_checkpoint_id JOIN lm_models lm ON lm.id = lc.lm_model_id
         WHERE ${where} ORDER BY f.max_activation DESC, f.sae_checkpoint_id, f.feature_index`,
        params,
      ).then((rows) => rows.map((r) => r.id));
    const cases: [Record<string, unknown>, string, unknown[]][] = [
      [{}, 'true', []],
      [{ game: 'othello' }, `lm.game = 'othello'`, []],
      [{ game: 'chess' }, `lm.game = 'chess'`, []],
      [{ lm: pick.lm }, 'lm.name = $1', [pick.lm]],
      [{ layer: pick.layer, trainer: pick.trainer }, 's.layer = $1 AND s.trainer = $2', [pick.layer, pick.trainer]],
    ];
    for (const [f, where, params] of cases) {
      const edges = await allPages(query, 'features', { f, first: 100 });
      expect(edges.map((e) => e.node.id)).toEqual(await expected(where, params));
    }
  });

  it('costs the same number of SQL statements for 10 and 100 features (DataLoaders)', async () => {
    const count = async (first: number) => {
      const before = statements;
      const data = await ok(FEATURE_PAGE, { first });
      expect(data.features.edges.length).toBe(first);
      return statements - before;
    };
    const ten = await count(10);
    const hundred = await count(100);
    expect(hundred).toBe(ten);
    expect(hundred).toBeLessThanOrEqual(12);
  });

  it('stays stable while rows are inserted between pages', async () => {
    const first = (await ok(FEATURE_PAGE, { first: 20 })).features;
    const before = new Set((await sql(`SELECT sae_checkpoint_id || ':' || feature_index AS id FROM features`)).map((r) => r.id));
    // A new checkpoint with features of every size lands in the middle of the order.
    const [{ id: ckpt }] = await sql(`INSERT INTO sae_checkpoints (sae_id, step, tokens_seen, is_final, path) VALUES (1, 12, 768, false, '/tmp/x') RETURNING id`);
    await sql(
      `INSERT INTO features (sae_checkpoint_id, feature_index, alive, max_activation, density)
       SELECT $1, i, true, (SELECT max(max_activation) FROM features) * i / 32.0, 0.1 FROM generate_series(0, 31) i`,
      [ckpt],
    );
    try {
      const rest = await allPages(FEATURE_PAGE, 'features', { first: 25, after: first.pageInfo.endCursor });
      const seen = [...first.edges, ...rest].map((e) => e.node.id).filter((id) => before.has(id));
      expect(new Set(seen).size).toBe(seen.length); // no repeats
      expect(seen.length).toBe(before.size); // no gaps
    } finally {
      await sql(`DELETE FROM sae_checkpoints WHERE id = $1`, [ckpt]);
    }
  });
});

describe('SAEs, checkpoints, metrics, leaderboard', () => {
  it('lists SAEs ordered by a metric of their final checkpoint, equal to SQL', async () => {
    const data = await ok(`{ saes(orderBy: { metric: "coverage", family: "board_state" }, first: 10) {
      edges { node { id trainer dictionarySize hyperparameters languageModel { name } finalCheckpoint { step } checkpoints { step isFinal }
        metrics(metric: "coverage", family: "board_state") { value family } } } } }`);
    const rows = await sql(
      `SELECT s.id, m.value FROM saes s JOIN sae_checkpoints c ON c.sae_id = s.id AND c.is_final
       JOIN metric_results m ON m.sae_checkpoint_id = c.id AND m.metric = 'coverage' AND m.family LIKE '%state_stack_mine_yours%'
       ORDER BY m.value DESC, s.id`,
    );
    const nodes = data.saes.edges.map((e: any) => e.node);
    expect(nodes.map((n: any) => [Number(n.id), n.metrics[0].value])).toEqual(rows.map((r) => [r.id, r.value]));
    expect(nodes[0].checkpoints.map((c: any) => c.isFinal)).toEqual([false, true]);
    expect(nodes[0].hyperparameters.trainer).toBe(nodes[0].trainer);
  });

  it('filters SAEs by trainer and by metric bounds', async () => {
    const byTrainer = await ok(`{ saes(filter: { trainer: "p_anneal" }) { edges { node { trainer } } } }`);
    expect(byTrainer.saes.edges.map((e: any) => e.node.trainer)).toEqual(['p_anneal']);
    const [{ median }] = await sql(
      `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY m.value) AS median FROM metric_results m JOIN sae_checkpoints c ON c.id = m.sae_checkpoint_id AND c.is_final
       WHERE m.metric = 'num_alive_features'`,
    );
    const bounded = await ok(`query($min: Float) { saes(filter: { metrics: [{ metric: "num_alive_features", min: $min }] }) { edges { node { id } } } }`, { min: median });
    const expected = await sql(
      `SELECT s.id FROM saes s JOIN sae_checkpoints c ON c.sae_id = s.id AND c.is_final JOIN metric_results m ON m.sae_checkpoint_id = c.id AND m.metric = 'num_alive_features'
       WHERE m.value >= $1 ORDER BY s.id`,
      [median],
    );
    expect(bounded.saes.edges.map((e: any) => Number(e.node.id))).toEqual(expected.map((r) => r.id));
  });

  it('shows every metric over training checkpoints', async () => {
    const data = await ok(`{ sae(id: "1") { checkpoints { step metrics(metric: "coverage") { family value } evaluations { aliveFeatures evalConfigHash } } } }`);
    for (const c of data.sae.checkpoints) {
      expect(c.metrics.length).toBe(2); // board_state and valid_moves
      expect(c.evaluations.length).toBe(1);
    }
  });

  it('ranks a leaderboard with the L0 of each SAE, and random-init SAEs apart', async () => {
    const data = await ok(`{ leaderboard(game: othello, metric: "reconstruction", family: "board_state", layer: 1) {
      family entries { rank trainer value l0 lmOrigin sae { id } } randomInit { value } probe { accuracy } } }`);
    const rows = await sql(
      `SELECT s.id, m.value FROM saes s JOIN sae_checkpoints c ON c.sae_id = s.id AND c.is_final
       JOIN metric_results m ON m.sae_checkpoint_id = c.id AND m.metric = 'reconstruction' AND m.family LIKE '%state_stack_mine_yours%'
       ORDER BY m.value DESC, s.id`,
    );
    // The tiny LM of the fixture is random-init: its SAEs are the floor list.
    const all = [...data.leaderboard.entries, ...data.leaderboard.randomInit];
    expect(all.map((e: any) => e.value)).toEqual(rows.map((r) => r.value));
    expect(data.leaderboard.family).toBe('board_state');
    const r = await gql(`{ leaderboard(game: othello, metric: "coverage") { metric } }`);
    expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('costs the same SQL statements for a leaderboard of 1 entry and of 100: the family, the ranking with its SAEs, the probe', async () => {
    const count = async (first: number) => {
      const before = statements;
      const data = await ok(`{ leaderboard(game: othello, metric: "reconstruction", family: "board_state", first: ${first}) {
        entries { rank value sae { id name trainer } } randomInit { rank value sae { id name } } probe { accuracy } } }`);
      const all = [...data.leaderboard.entries, ...data.leaderboard.randomInit];
      expect(all.length).toBeGreaterThan(0);
      const names = new Map((await sql(`SELECT id, name FROM saes`)).map((r) => [String(r.id), r.name]));
      for (const e of all) expect(e.sae.name).toBe(names.get(e.sae.id));
      return { statements: statements - before, entries: all.length };
    };
    const one = await count(1);
    const hundred = await count(100);
    expect(hundred.entries).toBeGreaterThan(one.entries);
    expect(hundred.statements).toBe(one.statements);
    // ranking (with the SAE rows), best probe (+ the board-state fallback when none); the family from the catalogue cache
    expect(hundred.statements).toBeLessThanOrEqual(3);
    // The probe only when asked for.
    const before = statements;
    await ok(`{ leaderboard(game: othello, metric: "reconstruction", family: "board_state", first: 100) { entries { rank value sae { id name trainer } } } }`);
    expect(statements - before).toBe(1);
  });

  it('fills each leaderboard list up to `first`, whatever the other list holds', async () => {
    // Move the two best SAEs onto a trained twin of the fixture's LM: with first: 1, the random-init
    // list must still hold its best SAE (a shared LIMIT of 2·first once left it empty).
    const best = await sql(
      `SELECT s.id, s.lm_checkpoint_id FROM saes s JOIN sae_checkpoints c ON c.sae_id = s.id AND c.is_final
       JOIN metric_results m ON m.sae_checkpoint_id = c.id AND m.metric = 'reconstruction' AND m.family LIKE '%state_stack_mine_yours%'
       WHERE s.layer = 1 ORDER BY m.value DESC, s.id`,
    );
    expect(best.length).toBeGreaterThanOrEqual(3);
    const [twin] = await sql(
      `WITH m AS (INSERT INTO lm_models (name, game, config, config_hash, origin)
                  SELECT name || '-trained-twin', game, config, config_hash, 'trained' FROM lm_models
                  WHERE id = (SELECT lm_model_id FROM lm_checkpoints WHERE id = $1) RETURNING id)
       INSERT INTO lm_checkpoints (lm_model_id, step, path, code_version) SELECT id, 0, '/nowhere', 'test' FROM m RETURNING id`,
      [best[0].lm_checkpoint_id],
    );
    await sql(`UPDATE saes SET lm_checkpoint_id = $1 WHERE id = ANY($2::bigint[])`, [twin.id, [best[0].id, best[1].id]]);
    try {
      const data = await ok(`{ leaderboard(game: othello, metric: "reconstruction", family: "board_state", layer: 1, first: 1) {
        entries { sae { id } } randomInit { sae { id } } } }`);
      expect(data.leaderboard.entries.map((e: any) => e.sae.id)).toEqual([String(best[0].id)]);
      expect(data.leaderboard.randomInit.map((e: any) => e.sae.id)).toEqual([String(best[2].id)]);
    } finally {
      await sql(`UPDATE saes SET lm_checkpoint_id = $1 WHERE id = ANY($2::bigint[])`, [best[0].lm_checkpoint_id, [best[0].id, best[1].id]]);
      await sql(`DELETE FROM lm_models WHERE id = (SELECT lm_model_id FROM lm_checkpoints WHERE id = $1)`, [twin.id]);
    }
  });

  it('unknown ids are NOT_FOUND, malformed ids BAD_USER_INPUT', async () => {
    expect((await gql(`{ sae(id: "999999") { id } }`)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await gql(`{ sae(id: "abc") { id } }`)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await gql(`{ feature(id: "1:99999") { id } }`)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await gql(`{ feature(id: "1-2") { id } }`)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('board properties and stored activations', () => {
  it('lists board properties by best F1 with their best features, equal to SQL', async () => {
    const data = await ok(`{ boardProperties(filter: { game: othello, family: "board_state" }, orderBy: BEST_F1, first: 5) {
      edges { node { id name square bestF1 bestFeatures(first: 2) { f1 feature { id } } } } } }`);
    const rows = await sql(
      `SELECT a.bsp_id AS id, max(a.f1) AS f1 FROM feature_alignments a JOIN sae_checkpoints c ON c.id = a.sae_checkpoint_id AND c.is_final
       JOIN board_properties bp ON bp.id = a.bsp_id WHERE bp.short_name = 'board_state' AND bp.game = 'othello'
       GROUP BY a.bsp_id ORDER BY max(a.f1) DESC, a.bsp_id LIMIT 5`,
    );
    const nodes = data.boardProperties.edges.map((e: any) => e.node);
    expect(nodes.map((n: any) => Number(n.id))).toEqual(rows.map((r) => r.id));
    for (const [i, n] of nodes.entries()) {
      expect(n.bestF1).toBeCloseTo(rows[i].f1, 6);
      expect(n.bestFeatures[0].f1).toBeCloseTo(rows[i].f1, 6);
    }
    const covered = await ok(`{ boardProperties(filter: { game: othello, covered: true }, first: 100) { edges { node { bestF1 } } } }`);
    for (const e of covered.boardProperties.edges) expect(e.node.bestF1).toBeGreaterThanOrEqual(0.5);
  });

  it('reads stored activations of a feature and at a position, equal to SQL', async () => {
    const [{ sae_checkpoint_id: ckpt, feature_index: f }] = await sql(
      `SELECT sae_checkpoint_id, feature_index FROM feature_activations GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1`,
    );
    const q = `query($c: ID!, $f: Int!, $first: Int, $after: String) { featureActivations(saeCheckpoint: $c, feature: $f, first: $first, after: $after) {
      edges { node { gameIndex positionIndex value } } pageInfo { hasNextPage endCursor } } }`;
    const edges = await allPages(q, 'featureActivations', { c: String(ckpt), f, first: 37 });
    const rows = await sql(`SELECT position_key, value FROM feature_activations WHERE sae_checkpoint_id = $1 AND feature_index = $2 ORDER BY value DESC, position_key`, [ckpt, f]);
    expect(edges.map((e) => [e.node.gameIndex * 1024 + e.node.positionIndex, e.node.value])).toEqual(rows.map((r) => [r.position_key, r.value]));
    const top = edges[0].node;
    const at = await ok(`{ positionActivations(saeCheckpoint: "${ckpt}", game: ${top.gameIndex}, position: ${top.positionIndex}) { featureIndex value } }`);
    const atRows = await sql(`SELECT feature_index, value FROM feature_activations WHERE sae_checkpoint_id = $1 AND position_key = $2 ORDER BY value DESC, feature_index`, [
      ckpt,
      top.gameIndex * 1024 + top.positionIndex,
    ]);
    expect(at.positionActivations.map((a: any) => [a.featureIndex, a.value])).toEqual(atRows.map((r) => [r.feature_index, r.value]));
  });

  it('lists language models with checkpoints', async () => {
    const data = await ok(`{ languageModels(game: othello) { name origin config checkpoints { step } } }`);
    const rows = await sql(`SELECT name FROM lm_models WHERE game = 'othello' ORDER BY id`);
    expect(data.languageModels.map((m: any) => m.name)).toEqual(rows.map((r) => r.name));
    expect(data.languageModels[0].config.nLayer).toBe(2);
  });
});

const ANALYZE = `query($game: GameId!, $moves: String!, $saes: [ID!]!, $max: Int) {
  analyzePosition(game: $game, moves: $moves, saes: $saes, maxFeatures: $max) {
    moves board toMove
    trueProperties { id name family }
    saes { sae { id } saeCheckpoint { id isFinal } activeFeatureCount
      features { featureIndex value relativeActivation feature { maxActivation } trueAlignments { f1 boardProperty { id } } } }
  }
}`;

describe('analyzePosition', () => {
  it('labels the position like the dataset and runs the SAEs like the evaluation did', async () => {
    const { loadDatasetInputs } = await import('../../src/jobs/eval-inputs.js');
    const data = await loadDatasetInputs(env.datasetDir, { families: 'board_state,valid_moves' });
    const split = data.test;
    const row = Array.from(split.positionIndex).findIndex((p) => p === 12);
    const game = split.positionGame[row];
    const g = game - split.games.start;
    const tokens = Array.from(split.tokens.subarray(g * split.stride, g * split.stride + 13));
    const saeIds = (await sql(`SELECT id FROM saes ORDER BY id`)).map((r) => String(r.id));
    const a = (await ok(ANALYZE, { game: 'othello', moves: tokens.join(' '), saes: saeIds, max: 200 })).analyzePosition;
    // Models are cached after the first request: later ones leave no tensor behind.
    const { tf } = await import('../../src/tensor/backend.js');
    const live = tf.memory().numTensors;
    await ok(ANALYZE, { game: 'othello', moves: tokens.join(' '), saes: saeIds, max: 5 });
    expect(tf.memory().numTensors).toBe(live);
    expect(a.moves.length).toBe(13);

    // True properties = the dataset's stored labels of that position (global cell → board property).
    const cells = Array.from(split.labels.cells.subarray(split.labels.ptr[row], split.labels.ptr[row + 1]));
    const expected: string[] = [];
    for (const cell of cells) {
      const k = split.labels.families.findIndex((_, i) => split.labels.offsets[i] <= cell && cell < split.labels.offsets[i + 1]);
      const fam = split.labels.families[k];
      const [bp] = await sql(`SELECT id FROM board_properties WHERE game = 'othello' AND family = $1 AND cell_index = $2`, [fam.name, cell - split.labels.offsets[k]]);
      expected.push(String(bp.id));
    }
    expect(a.trueProperties.map((p: any) => p.id).sort()).toEqual(expected.sort());

    // Live activations = the evaluation's stored sparse activations at that position.
    for (const s of a.saes) {
      expect(s.saeCheckpoint.isFinal).toBe(true);
      const stored = await sql(`SELECT feature_index, value FROM feature_activations WHERE sae_checkpoint_id = $1 AND position_key = $2 ORDER BY value DESC, feature_index`, [
        Number(s.saeCheckpoint.id),
        game * 1024 + 12,
      ]);
      expect(s.activeFeatureCount).toBe(stored.length);
      expect(s.features.map((f: any) => f.featureIndex)).toEqual(stored.map((r) => r.feature_index));
      for (const [i, f] of s.features.entries()) {
        expect(f.value).toBeCloseTo(stored[i].value, 3);
        expect(f.relativeActivation).toBeCloseTo(f.value / f.feature.maxActivation, 5);
        for (const al of f.trueAlignments) expect(expected).toContain(al.boardProperty.id);
      }
    }
  });

  it('runs two analyses at once, queues 16 more and refuses the rest with UNAVAILABLE', async () => {
    const { analyzePosition, MAX_CONCURRENT_ANALYSES, MAX_WAITING_ANALYSES } = await import('../../src/services/analysis.service.js');
    const { createLoaders } = await import('../../src/services/loaders.js');
    const n = MAX_CONCURRENT_ANALYSES + MAX_WAITING_ANALYSES + 3;
    const results = await Promise.allSettled(
      Array.from({ length: n }, () => analyzePosition(env.db.pool, createLoaders(env.db.pool), { game: 'othello', moves: 'd3 c5', saes: ['1'] })),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.length).toBe(3);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'UNAVAILABLE' });
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(n - 3);
  });

  it('names the first bad move of an illegal or malformed list', async () => {
    const illegal = await gql(ANALYZE, { game: 'othello', moves: 'd3 a1', saes: ['1'] });
    expect(illegal.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(illegal.errors?.[0].message).toMatch(/move 2 \(a1\): illegal move/);
    const malformed = await gql(ANALYZE, { game: 'othello', moves: 'd3 zz9', saes: ['1'] });
    expect(malformed.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(malformed.errors?.[0].message).toMatch(/move 2 \("zz9"\)/);
    const wrongGame = await gql(ANALYZE, { game: 'chess', moves: 'e4 e5', saes: ['1'] });
    expect(wrongGame.errors?.[0].message).toMatch(/reads a othello LM, not chess/);
    const tooMany = await gql(ANALYZE, { game: 'othello', moves: 'd3', saes: Array.from({ length: 9 }, () => '1') });
    expect(tooMany.errors?.[0].message).toMatch(/at most 8 SAEs/);
  });
});

describe('activation sets and probe ceilings', () => {
  it('shows an LM checkpoint’s registered activation sets; a random-init LM is no probe ceiling', async () => {
    const { registerActivationDir } = await import('../../src/jobs/lm.js');
    const path = await import('node:path');
    const id = await registerActivationDir(env.db.pool, path.join(env.tmp, 'acts'), { checkpointDir: env.lmDir, datasetDir: env.datasetDir });
    const data = await ok(`{ languageModels(game: othello) { checkpoints { activationSets { id layer site nVectors dModel } } } }`);
    const sets = data.languageModels.flatMap((m: any) => m.checkpoints.flatMap((c: any) => c.activationSets));
    const [row] = await sql(`SELECT layer, site, n_vectors, d_model FROM activation_sets WHERE id = $1`, [id]);
    expect(sets).toEqual([{ id: String(id), layer: row.layer, site: row.site, nVectors: row.n_vectors, dModel: row.d_model }]);
    await sql(
      `INSERT INTO probe_results (lm_checkpoint_id, dataset_path, layer, site, family, kind, accuracy, train_accuracy, baseline_accuracy, n_train, n_test, config, config_hash, code_version)
       SELECT id, 'x', 1, 'resid_post', 'board_state', 'softmax', 0.9, 0.9, 0.5, 10, 10, '{}', 'h', 'v' FROM lm_checkpoints LIMIT 1`,
    );
    const bp = await ok(`{ boardProperties(filter: { game: othello, family: "board_state" }, first: 1) { edges { node { bestProbe { accuracy } } } } }`);
    expect(bp.boardProperties.edges[0].node.bestProbe).toBeNull(); // the fixture's only LM is random-init
    await sql(`UPDATE lm_models SET origin = 'trained'`);
    const bp2 = await ok(`{ boardProperties(filter: { game: othello, family: "board_state" }, first: 1) { edges { node { bestProbe { accuracy layer family } } } } }`);
    expect(bp2.boardProperties.edges[0].node.bestProbe).toEqual({ accuracy: 0.9, layer: 1, family: 'board_state' });
    await sql(`UPDATE lm_models SET origin = 'random-init'`);
  });
});
