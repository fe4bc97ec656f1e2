import * as Plot from '@observablehq/plot';
import { useMemo } from 'react';
import { useQuery } from '../api';
import { graphql } from '../gql';
import type { FeaturePageQuery } from '../gql/graphql';
import { ChessBoard } from '../components/ChessBoard';
import { Heatmap } from '../components/Heatmap';
import { OthelloBoard } from '../components/OthelloBoard';
import { PlotFigure } from '../components/PlotFigure';
import { Async, fmt } from '../components/Status';
import { Link, useParam } from '../router';

const FeatureQuery = graphql(`
  query FeaturePage($id: ID!, $family: String!) {
    feature(id: $id) {
      id
      index
      alive
      maxActivation
      density
      histogram
      bestF1
      bestThreshold
      sae {
        id
        name
        trainer
        layer
        languageModel {
          game
          name
        }
      }
      saeCheckpoint {
        id
        step
        isFinal
      }
      topExamples(first: 6) {
        rank
        activation
        board
        gameIndex
        positionIndex
        split
        transcript
      }
      alignments(first: 10) {
        threshold
        precision
        recall
        f1
        boardProperty {
          id
          name
          family
          square
        }
      }
      explanations(first: 3) {
        rank
        kind
        text
        precision
        recall
        f1
        boardProperties {
          id
          name
        }
      }
      squareF1(family: $family) {
        square
        row
        column
        f1
      }
    }
  }
`);

const CurveQuery = graphql(`
  query FeatureCurve($id: ID!, $bsp: ID!) {
    feature(id: $id) {
      id
      alignmentCurve(boardProperty: $bsp) {
        threshold
        precision
        recall
        f1
      }
    }
  }
`);

const HistoryQuery = graphql(`
  query FeatureHistory($sae: ID!, $feature: Int!) {
    featureHistory(sae: $sae, feature: $feature) {
      level
      finalF1
      firstStep
      stableStep
      boardProperty {
        id
        name
      }
      points {
        step
        f1
        saeCheckpoint {
          id
        }
      }
    }
  }
`);

type Feature = FeaturePageQuery['feature'];

export function FeaturePage({ id }: { id: string }) {
  const [family, setFamily] = useParam('family', 'board_state');
  const q = useQuery(FeatureQuery, { id, family });
  return <Async state={q} what={`feature ${id}`}>{(d) => <FeatureView f={d.feature} family={family} setFamily={setFamily} />}</Async>;
}

function FeatureView({ f, family, setFamily }: { f: Feature; family: string; setFamily: (v: string) => void }) {
  const [bspParam, setBsp] = useParam('bsp', '');
  const bsp = bspParam || f.alignments[0]?.boardProperty.id || '';
  const curve = useQuery(CurveQuery, { id: f.id, bsp }, { skip: !bsp });
  const game = f.sae.languageModel.game;
  const histOptions = useMemo<Plot.PlotOptions | null>(() => {
    if (!f.histogram?.length) return null;
    const n = f.histogram.length;
    const bins = f.histogram.map((v, i) => ({ x1: i / n, x2: (i + 1) / n, v }));
    return {
      height: 180,
      marginLeft: 48,
      x: { label: 'activation / max' },
      y: { label: 'share', grid: true },
      marks: [Plot.rectY(bins, { x1: 'x1', x2: 'x2', y: 'v', fill: '#2563eb', inset: 0.5, tip: true }), Plot.ruleY([0])],
    };
  }, [f.histogram]);
  const curveRows = curve.data?.feature.alignmentCurve ?? [];
  const curveOptions = useMemo<Plot.PlotOptions>(() => {
    const long = curveRows.flatMap((r) => [
      { threshold: r.threshold, stat: 'precision', value: r.precision },
      { threshold: r.threshold, stat: 'recall', value: r.recall },
      { threshold: r.threshold, stat: 'F1', value: r.f1 },
    ]);
    return {
      width: 360,
      height: 200,
      marginLeft: 40,
      grid: true,
      x: { label: 'threshold (fraction of max)', domain: [0, 1] },
      y: { label: null, domain: [0, 1] },
      color: { legend: true, domain: ['precision', 'recall', 'F1'] },
      marks: [Plot.lineY(long, { x: 'threshold', y: 'value', stroke: 'stat', marker: 'circle' }), Plot.tip(long, Plot.pointer({ x: 'threshold', y: 'value', title: (d: { stat: string; value: number; threshold: number }) => `${d.stat} ${d.value.toFixed(3)} at ${d.threshold}` }))],
    };
  }, [curveRows]);
  const selected = f.alignments.find((a) => a.boardProperty.id === bsp);

  return (
    <>
      <p className="crumbs">
        <Link to="/">Leaderboard</Link> › <Link to={`/sae/${f.sae.id}`}>SAE {f.sae.name}</Link> › Feature
      </p>
      <h1>
        Feature #{f.index} <span className="tag">{f.sae.trainer}</span>
      </h1>
      <dl className="kv stats">
        <div>
          <dt>Max activation</dt>
          <dd data-stat="maxActivation">{fmt(f.maxActivation)}</dd>
        </div>
        <div>
          <dt>Density</dt>
          <dd data-stat="density">{fmt(f.density, 4)}</dd>
        </div>
        <div>
          <dt>Best F1</dt>
          <dd data-stat="bestF1">{fmt(f.bestF1)}</dd>
        </div>
        <div>
          <dt>Checkpoint</dt>
          <dd>
            step {f.saeCheckpoint.step}
            {f.saeCheckpoint.isFinal ? ' (final)' : ''}
          </dd>
        </div>
        <div>
          <dt>Alive</dt>
          <dd>{f.alive ? 'yes' : 'no'}</dd>
        </div>
      </dl>
      <div className="grid">
        <section aria-labelledby="acth">
          <h2 id="acth">Activation histogram</h2>
          {histOptions ? <PlotFigure options={histOptions} label="Histogram of this feature's activations as fractions of its maximum" /> : <p className="status">No histogram stored.</p>}
        </section>
        <section aria-labelledby="heat">
          <h2 id="heat">Best F1 per square</h2>
          <label>
            Family
            <select value={family} onChange={(e) => setFamily(e.target.value)}>
              {[...new Set([family, 'board_state', ...f.alignments.filter((a) => a.boardProperty.square).map((a) => a.boardProperty.family)])].map((x) => (
                <option key={x} value={x}>
                  {x}
                </option>
              ))}
            </select>
          </label>
          <Heatmap cells={f.squareF1} game={game} label={`Best F1 of feature ${f.index} per square for ${family}`} />
        </section>
      </div>
      <div className="grid">
        <Explanations f={f} />
        <History f={f} />
      </div>
      <section aria-labelledby="align">
        <h2 id="align">Aligned board properties</h2>
        {f.alignments.length ? (
          <div className="grid">
            <table aria-labelledby="align">
              <thead>
                <tr>
                  <th scope="col">Property</th>
                  <th scope="col">F1</th>
                  <th scope="col">Precision</th>
                  <th scope="col">Recall</th>
                  <th scope="col">Threshold</th>
                  <th scope="col">Curve</th>
                </tr>
              </thead>
              <tbody>
                {f.alignments.map((a) => (
                  <tr key={a.boardProperty.id} data-bsp={a.boardProperty.id} className={a.boardProperty.id === bsp ? 'selected' : undefined}>
                    <td>
                      <Link to={`/property/${a.boardProperty.id}`}>{a.boardProperty.name}</Link>
                    </td>
                    <td className="num">{fmt(a.f1)}</td>
                    <td className="num">{fmt(a.precision)}</td>
                    <td className="num">{fmt(a.recall)}</td>
                    <td className="num">{fmt(a.threshold, 2)}</td>
                    <td>
                      <button type="button" aria-pressed={a.boardProperty.id === bsp} onClick={() => setBsp(a.boardProperty.id)} aria-label={`plot precision, recall and F1 over thresholds for ${a.boardProperty.name}`}>
                        plot
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <div>
              <h3>{selected ? selected.boardProperty.name : 'Property'}: over thresholds</h3>
              {curve.error ? <p role="alert">{curve.error.message}</p> : curveRows.length ? <PlotFigure options={curveOptions} label={`Precision, recall and F1 over thresholds for ${selected?.boardProperty.name ?? 'the property'}`} /> : <p className="status">Loading…</p>}
            </div>
          </div>
        ) : (
          <p className="status">No alignment with any board property is stored for this feature.</p>
        )}
      </section>
      <section aria-labelledby="top">
        <h2 id="top">Top-activating positions</h2>
        <div className="examples">
          {f.topExamples.map((e) => (
            <figure key={e.rank} className="example" data-rank={e.rank}>
              {game === 'chess' ? (
                <ChessBoard fen={e.board} label={`Example ${e.rank + 1}`} size={240} />
              ) : (
                <OthelloBoard board={e.board} label={`Example ${e.rank + 1}`} size={240} highlight={e.transcript?.[e.positionIndex]} />
              )}
              <figcaption>
                #{e.rank + 1}: activation <strong>{fmt(e.activation)}</strong>, game {e.gameIndex} token {e.positionIndex} ({e.split})
                {e.transcript ? <Transcript tokens={e.transcript} at={e.positionIndex} sep={game === 'chess' ? '' : ' '} /> : null}
              </figcaption>
            </figure>
          ))}
        </div>
      </section>
    </>
  );
}

/** The game's transcript up to the position, with the character (token) the feature read highlighted. */
function Transcript({ tokens, at, sep }: { tokens: string[]; at: number; sep: string }) {
  const from = Math.max(0, at - (sep ? 12 : 60));
  return (
    <span className="transcript" data-token={tokens[at]}>
      {from > 0 ? '…' : ''}
      {tokens.slice(from, at).join(sep)}
      {sep && at > from ? sep : ''}
      <mark title={`token ${at}`}>{tokens[at] ?? ''}</mark>
      {sep && at + 1 < tokens.length ? sep : ''}
      {tokens.slice(at + 1, at + (sep ? 4 : 20)).join(sep)}
      {at + (sep ? 4 : 20) < tokens.length ? '…' : ''}
    </span>
  );
}

function Explanations({ f }: { f: Feature }) {
  return (
    <section aria-labelledby="expl">
      <h2 id="expl">Explanations</h2>
      {f.explanations.length ? (
        <>
          <p className="muted">Chosen on the training positions, scored on held-out ones (the first is the explanation; the others the best of the other kinds).</p>
          <div className="table-wrap">
            <table aria-labelledby="expl">
              <thead>
                <tr>
                  <th scope="col">Explanation</th>
                  <th scope="col">Precision</th>
                  <th scope="col">Recall</th>
                  <th scope="col">F1</th>
                </tr>
              </thead>
              <tbody>
                {f.explanations.map((e) => (
                  <tr key={e.rank} data-rank={e.rank}>
                    <td>
                      {e.text} <span className="tag">{e.kind.toLowerCase()}</span>
                    </td>
                    <td className="num">{fmt(e.precision)}</td>
                    <td className="num">{fmt(e.recall)}</td>
                    <td className="num">{fmt(e.f1)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : (
        <p className="status">No explanation yet: an ANALYZE job writes them.</p>
      )}
    </section>
  );
}

function History({ f }: { f: Feature }) {
  const q = useQuery(HistoryQuery, { sae: f.sae.id, feature: f.index });
  const h = q.data?.featureHistory ?? null;
  const options = useMemo<Plot.PlotOptions | null>(
    () =>
      h?.points.length
        ? {
            width: 360,
            height: 180,
            marginLeft: 40,
            grid: true,
            x: { label: 'step' },
            y: { label: 'F1', domain: [0, 1] },
            marks: [
              Plot.ruleY([h.level], { stroke: '#9ca3af', strokeDasharray: '4 3' }),
              Plot.lineY(h.points, { x: 'step', y: 'f1', stroke: '#2563eb' }),
              Plot.dot(h.points, { x: 'step', y: 'f1', fill: '#2563eb', tip: true }),
            ],
          }
        : null,
    [h],
  );
  return (
    <section aria-labelledby="hist">
      <h2 id="hist">History over checkpoints</h2>
      {q.error ? (
        q.error.code === 'NOT_FOUND' ? (
          <p className="status">No feature histories yet: run an ANALYZE job on this SAE.</p>
        ) : (
          <p role="alert">{q.error.message}</p>
        )
      ) : !q.data ? (
        <p className="status" role="status">
          Loading its history…
        </p>
      ) : h && options ? (
        <>
          <p>
            F1 of feature #{f.index} with {h.boardProperty ? <Link to={`/property/${h.boardProperty.id}`}>{h.boardProperty.name}</Link> : 'its final property'} (its best property in the final checkpoint):{' '}
            <span data-stat="firstStep">{h.firstStep == null ? `never reaches F1 ${h.level}` : `first reaches F1 ${h.level} at step ${h.firstStep}`}</span>
            {h.stableStep != null ? `, stays there from step ${h.stableStep}` : ''}.
          </p>
          <PlotFigure options={options} label={`F1 of feature ${f.index} over training steps: ${h.points.map((p) => `step ${p.step}: ${p.f1.toFixed(3)}`).join(', ')}`} />
        </>
      ) : (
        <p className="status">This feature has no board property in the final checkpoint, so no history.</p>
      )}
    </section>
  );
}
