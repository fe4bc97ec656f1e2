import * as Plot from '@observablehq/plot';
import { useMemo, useState } from 'react';
import { useQuery } from '../api';
import { graphql } from '../gql';
import type { SaePageQuery } from '../gql/graphql';
import { PlotFigure } from '../components/PlotFigure';
import { Async, fmt } from '../components/Status';
import { Link, navigate } from '../router';
import { familyLabel, metricName } from './common';

const SaeQuery = graphql(`
  query SaePage($id: ID!) {
    sae(id: $id) {
      id
      name
      trainer
      dictionary
      dictionarySize
      dIn
      layer
      site
      status
      sweep
      hyperparameters
      languageModel {
        id
        name
        game
        origin
      }
      checkpoints {
        id
        step
        isFinal
        metrics {
          metric
          family
          value
        }
      }
      finalCheckpoint {
        id
        step
        explainedShare {
          aliveFeatures
          explainedFeatures
          atF1_50
          atF1_80
          absorption
          splitting
        }
        boardPropertyAnalyses(first: 20, orderBy: ABSORPTION) {
          totalCount
          edges {
            node {
              boardProperty {
                id
                name
              }
              bestF1
              bestFeature {
                id
                index
              }
              mainFeatures
              positives
              missed
              absorbed
              absorption
              splitting
              splitFeatures
              topAbsorber {
                id
                index
              }
              topAbsorberCount
            }
          }
        }
        densityHistogram(bins: 24) {
          dead
          bins {
            log10Low
            log10High
            count
          }
        }
        features(first: 10, orderBy: F1) {
          edges {
            node {
              id
              index
              bestF1
              density
              maxActivation
              bestBoardProperty {
                id
                name
              }
            }
          }
        }
      }
    }
  }
`);

const LearningQuery = graphql(`
  query SaeLearningOrder($sae: ID!) {
    learningOrder(sae: $sae, first: 20) {
      totalCount
      edges {
        node {
          firstStep
          features
          bestFinalF1
          boardProperty {
            id
            name
          }
        }
      }
    }
  }
`);

type Sae = SaePageQuery['sae'];

export function SaePage({ id }: { id: string }) {
  const q = useQuery(SaeQuery, { id });
  return <Async state={q} what={`SAE ${id}`}>{(d) => <SaeView sae={d.sae} />}</Async>;
}

function SaeView({ sae }: { sae: Sae }) {
  const final = sae.checkpoints.find((c) => c.isFinal) ?? sae.checkpoints[sae.checkpoints.length - 1];
  const series = useMemo(() => {
    const rows = sae.checkpoints.flatMap((c) => c.metrics.map((m) => ({ step: c.step, key: metricName(m.metric, m.family || null), value: m.value })));
    const keys = [...new Set(rows.map((r) => r.key))].sort();
    return keys.map((key) => ({ key, rows: rows.filter((r) => r.key === key).sort((a, b) => a.step - b.step) }));
  }, [sae]);
  const families = useMemo(() => {
    const byFamily = new Map<string, { coverage?: number; reconstruction?: number }>();
    for (const m of final?.metrics ?? []) {
      if (m.metric !== 'coverage' && m.metric !== 'reconstruction') continue;
      byFamily.set(m.family, { ...byFamily.get(m.family), [m.metric]: m.value });
    }
    return [...byFamily.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [final]);
  const hist = sae.finalCheckpoint?.densityHistogram;
  const histOptions = useMemo<Plot.PlotOptions | null>(
    () =>
      hist
        ? {
            height: 200,
            marginLeft: 44,
            x: { label: 'log10 feature density' },
            y: { label: 'features', grid: true },
            marks: [Plot.rectY(hist.bins, { x1: 'log10Low', x2: 'log10High', y: 'count', fill: '#2563eb', inset: 0.5, tip: true }), Plot.ruleY([0])],
          }
        : null,
    [hist],
  );
  const hp = sae.hyperparameters as Record<string, unknown>;
  return (
    <>
      <p className="crumbs">
        <Link to={`/?game=${sae.languageModel.game}&layer=${sae.layer}`}>Leaderboard</Link> › SAE
      </p>
      <h1>
        SAE {sae.name} <span className="tag">{sae.trainer}</span>
      </h1>
      <p className="lede">
        {sae.dictionarySize} features ({sae.dictionary}) on {sae.languageModel.name} ({sae.languageModel.origin}), layer {sae.layer} {sae.site}; {sae.status}
        {sae.sweep ? `, sweep ${sae.sweep}` : ''}.{' '}
        <Link to={`/explorer?game=${sae.languageModel.game}&saes=${sae.id}`}>Explore it live</Link>
      </p>
      <div className="grid">
        <section aria-labelledby="hp">
          <h2 id="hp">Hyperparameters</h2>
          <dl className="kv">
            {Object.entries(hp ?? {})
              .filter(([, v]) => v === null || typeof v !== 'object')
              .map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>{String(v)}</dd>
                </div>
              ))}
          </dl>
        </section>
        <section aria-labelledby="cov">
          <h2 id="cov">Per-family scores (final checkpoint)</h2>
          {families.length ? (
            <table aria-labelledby="cov">
              <thead>
                <tr>
                  <th scope="col">Family</th>
                  <th scope="col">Coverage</th>
                  <th scope="col">Reconstruction</th>
                </tr>
              </thead>
              <tbody>
                {families.map(([f, v]) => (
                  <tr key={f} data-family={f}>
                    <td title={f}>{familyLabel(f)}</td>
                    <td className="num" data-value={v.coverage}>
                      {fmt(v.coverage)}
                    </td>
                    <td className="num" data-value={v.reconstruction}>
                      {fmt(v.reconstruction)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="status">Not evaluated on any board-property family yet.</p>
          )}
        </section>
      </div>
      <section aria-labelledby="over">
        <h2 id="over">Metrics over training checkpoints</h2>
        <div className="small-multiples">
          {series.map((s) => (
            <MetricPlot key={s.key} name={s.key} rows={s.rows} />
          ))}
        </div>
      </section>
      <Analyses sae={sae} />
      <div className="grid">
        <section aria-labelledby="dens">
          <h2 id="dens">Feature density</h2>
          {histOptions ? <PlotFigure options={histOptions} label="Histogram of log10 feature density over the final checkpoint's features" /> : <p className="status">No evaluated final checkpoint.</p>}
          {hist ? <p>{hist.dead} dead features (never fired).</p> : null}
        </section>
        <section aria-labelledby="best">
          <h2 id="best">Best features</h2>
          <table aria-labelledby="best">
            <thead>
              <tr>
                <th scope="col">Feature</th>
                <th scope="col">Best property</th>
                <th scope="col">F1</th>
                <th scope="col">Density</th>
              </tr>
            </thead>
            <tbody>
              {sae.finalCheckpoint?.features.edges.map(({ node: f }) => (
                <tr key={f.id} data-feature={f.id}>
                  <td>
                    <Link to={`/feature/${f.id}`}>#{f.index}</Link>
                  </td>
                  <td>{f.bestBoardProperty ? <Link to={`/property/${f.bestBoardProperty.id}`}>{f.bestBoardProperty.name}</Link> : '–'}</td>
                  <td className="num">{fmt(f.bestF1)}</td>
                  <td className="num">{fmt(f.density, 4)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
    </>
  );
}

function MetricPlot({ name, rows }: { name: string; rows: { step: number; value: number }[] }) {
  const options = useMemo<Plot.PlotOptions>(
    () => ({
      width: 300,
      height: 160,
      marginLeft: 64,
      grid: true,
      x: { label: 'step' },
      y: { label: null, tickFormat: '.3~g', ticks: 4 },
      marks: [Plot.lineY(rows, { x: 'step', y: 'value', stroke: '#2563eb' }), Plot.dot(rows, { x: 'step', y: 'value', fill: '#2563eb', tip: true })],
    }),
    [rows],
  );
  return (
    <div className="multiple">
      <h3>{name}</h3>
      <PlotFigure options={options} label={`${name} over training steps: ${rows.map((r) => `step ${r.step}: ${r.value.toFixed(3)}`).join(', ')}`} />
    </div>
  );
}

const pct = (v: number | null | undefined) => (v == null ? '–' : `${(v * 100).toFixed(1)}%`);

/** The ANALYZE job's results: explained share, absorption / splitting per BSP, learning order, checkpoint comparisons. */
function Analyses({ sae }: { sae: Sae }) {
  const share = sae.finalCheckpoint?.explainedShare ?? null;
  const bsps = sae.finalCheckpoint?.boardPropertyAnalyses;
  const learning = useQuery(LearningQuery, { sae: sae.id });
  const learnt = learning.data?.learningOrder.edges.map((e) => e.node) ?? [];
  return (
    <>
      <section aria-labelledby="expl">
        <h2 id="expl">Explained features, absorption and splitting (final checkpoint)</h2>
        {share ? (
          <dl className="kv stats">
            <div>
              <dt>Explained at F1 ≥ 0.5</dt>
              <dd data-stat="atF1_50">{pct(share.atF1_50)}</dd>
            </div>
            <div>
              <dt>Explained at F1 ≥ 0.8</dt>
              <dd data-stat="atF1_80">{pct(share.atF1_80)}</dd>
            </div>
            <div>
              <dt>Explained / alive features</dt>
              <dd data-stat="explained">
                {share.explainedFeatures} / {share.aliveFeatures}
              </dd>
            </div>
            <div>
              <dt>Absorption (lower is better)</dt>
              <dd data-stat="absorption">{fmt(share.absorption)}</dd>
            </div>
            <div>
              <dt>Splitting (1 is best)</dt>
              <dd data-stat="splitting">{fmt(share.splitting, 2)}</dd>
            </div>
          </dl>
        ) : (
          <p className="status">Not analysed yet: run an ANALYZE job on this SAE (Jobs page).</p>
        )}
        {bsps?.edges.length ? (
          <>
            <h3 id="bspa">Per board property, most absorbed first</h3>
            <p className="muted">
              {bsps.edges.length} shown{bsps.totalCount != null ? ` of ${bsps.totalCount}` : ''}. Absorption: share of the positions where the property holds but its main features are off that another feature
              fires on; splitting: features whose OR reaches F1 ≥ 0.9.
            </p>
            <div className="table-wrap">
              <table aria-labelledby="bspa">
                <thead>
                  <tr>
                    <th scope="col">Property</th>
                    <th scope="col">Best feature</th>
                    <th scope="col">Best F1</th>
                    <th scope="col">Absorption</th>
                    <th scope="col">Missed / positives</th>
                    <th scope="col">Top absorber</th>
                    <th scope="col">Splitting</th>
                  </tr>
                </thead>
                <tbody>
                  {bsps.edges.map(({ node: r }, i) => (
                    <tr key={r.boardProperty?.id ?? i} data-bsp={r.boardProperty?.id}>
                      <td>{r.boardProperty ? <Link to={`/property/${r.boardProperty.id}`}>{r.boardProperty.name}</Link> : '–'}</td>
                      <td>{r.bestFeature ? <Link to={`/feature/${r.bestFeature.id}`}>#{r.bestFeature.index}</Link> : '–'}</td>
                      <td className="num">{fmt(r.bestF1)}</td>
                      <td className="num">{fmt(r.absorption)}</td>
                      <td className="num">
                        {r.missed} / {r.positives}
                      </td>
                      <td>{r.topAbsorber ? <Link to={`/feature/${r.topAbsorber.id}`}>#{r.topAbsorber.index}</Link> : '–'}{r.topAbsorber ? ` (${r.topAbsorberCount}×)` : ''}</td>
                      <td className="num">{r.splitting ?? '–'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        ) : null}
      </section>
      <div className="grid">
        <section aria-labelledby="learn">
          <h2 id="learn">Learning order</h2>
          {learning.error ? (
            learning.error.code === 'NOT_FOUND' ? (
              <p className="status">No feature histories yet: run an ANALYZE job on this SAE.</p>
            ) : (
              <p role="alert">{learning.error.message}</p>
            )
          ) : learning.loading && !learning.data ? (
            <p className="status" role="status">
              Loading the learning order…
            </p>
          ) : learnt.length ? (
            <table aria-labelledby="learn">
              <thead>
                <tr>
                  <th scope="col">Property</th>
                  <th scope="col">First step</th>
                  <th scope="col">Features</th>
                  <th scope="col">Best final F1</th>
                </tr>
              </thead>
              <tbody>
                {learnt.map((r, i) => (
                  <tr key={r.boardProperty?.id ?? i} data-learnt={r.boardProperty?.id}>
                    <td>{r.boardProperty ? <Link to={`/property/${r.boardProperty.id}`}>{r.boardProperty.name}</Link> : '–'}</td>
                    <td className="num">{r.firstStep ?? 'never'}</td>
                    <td className="num">{r.features}</td>
                    <td className="num">{fmt(r.bestFinalF1)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="status">No board property is tracked by a feature.</p>
          )}
        </section>
        <CompareCheckpoints sae={sae} />
      </div>
    </>
  );
}

/** Links to the comparisons of consecutive checkpoints, and a picker for any two. */
function CompareCheckpoints({ sae }: { sae: Sae }) {
  const ckpts = useMemo(() => [...sae.checkpoints].sort((x, y) => x.step - y.step), [sae]);
  const [a, setA] = useState(ckpts[ckpts.length - 2]?.id ?? '');
  const [b, setB] = useState(ckpts[ckpts.length - 1]?.id ?? '');
  const name = (c: (typeof ckpts)[number]) => `step ${c.step}${c.isFinal ? ' (final)' : ''}`;
  return (
    <section aria-labelledby="cmp">
      <h2 id="cmp">Compare checkpoints</h2>
      {ckpts.length < 2 ? (
        <p className="status">Only one checkpoint.</p>
      ) : (
        <>
          <ul>
            {ckpts.slice(1).map((c, i) => (
              <li key={c.id}>
                <Link to={`/compare?a=${ckpts[i].id}&b=${c.id}`}>
                  {name(ckpts[i])} → {name(c)}
                </Link>
              </li>
            ))}
          </ul>
          <form
            className="filters"
            onSubmit={(e) => {
              e.preventDefault();
              navigate(`/compare?a=${a}&b=${b}`);
            }}
          >
            <label>
              Checkpoint A
              <select value={a} onChange={(e) => setA(e.target.value)}>
                {ckpts.map((c) => (
                  <option key={c.id} value={c.id}>
                    {name(c)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Checkpoint B
              <select value={b} onChange={(e) => setB(e.target.value)}>
                {ckpts.map((c) => (
                  <option key={c.id} value={c.id}>
                    {name(c)}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={!a || !b || a === b}>
              Compare
            </button>
          </form>
          <p className="muted">A comparison exists once an ANALYZE job compared the two (it compares consecutive checkpoints of each SAE it analyses).</p>
        </>
      )}
    </section>
  );
}
