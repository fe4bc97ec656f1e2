import * as Plot from '@observablehq/plot';
import { useMemo } from 'react';
import { useQuery } from '../api';
import { graphql } from '../gql';
import type { SaePageQuery } from '../gql/graphql';
import { PlotFigure } from '../components/PlotFigure';
import { Async, fmt } from '../components/Status';
import { Link } from '../router';
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
