import * as Plot from '@observablehq/plot';
import { useCallback, useMemo } from 'react';
import { useQuery } from '../api';
import { graphql } from '../gql';
import type { LeaderboardQuery } from '../gql/graphql';
import { PlotFigure } from '../components/PlotFigure';
import { Async, fmt } from '../components/Status';
import { Link, navigate, useParam } from '../router';
import { METRICS, SUPERVISED, TRAINER_SYMBOLS, familyLabel, metricName } from './common';

const OptionsQuery = graphql(`
  query LeaderboardOptions($game: GameId!) {
    saes(filter: { game: $game }, first: 100) {
      edges {
        node {
          id
          layer
          metrics {
            metric
            family
          }
        }
      }
    }
  }
`);

const LeaderboardQueryDoc = graphql(`
  query Leaderboard($game: GameId!, $layer: Int, $metric: String!, $family: String) {
    leaderboard(game: $game, layer: $layer, metric: $metric, family: $family, first: 50) {
      game
      layer
      metric
      family
      entries {
        rank
        value
        l0
        trainer
        sae {
          id
          name
          layer
          dictionarySize
        }
      }
      randomInit {
        rank
        value
        l0
        trainer
        sae {
          id
          name
          layer
        }
      }
      probe {
        accuracy
        f1
        layer
        family
      }
    }
  }
`);

type Entry = LeaderboardQuery['leaderboard']['entries'][number];

export function LeaderboardPage() {
  const [game, setGame] = useParam('game', 'othello');
  const [layer, setLayer] = useParam('layer', '');
  const [metric, setMetric] = useParam('metric', 'coverage');
  const [familyParam, setFamily] = useParam('family', '');
  const options = useQuery(OptionsQuery, { game: game as 'othello' | 'chess' });

  const layers = useMemo(() => [...new Set(options.data?.saes.edges.map((e) => e.node.layer) ?? [])].sort((a, b) => a - b), [options.data]);
  const families = useMemo(
    () => [...new Set(options.data?.saes.edges.flatMap((e) => e.node.metrics.filter((m) => SUPERVISED.has(m.metric) && m.family).map((m) => m.family)) ?? [])].sort(),
    [options.data],
  );
  const supervised = SUPERVISED.has(metric);
  const family = supervised ? familyParam || families.find((f) => f.includes('board_state') || f.includes('board_to_state')) || families[0] || '' : '';
  const board = useQuery(
    LeaderboardQueryDoc,
    { game: game as 'othello' | 'chess', layer: layer === '' ? null : Number(layer), metric, family: family || null },
    { skip: supervised && !options.data },
  );

  return (
    <>
      <h1>Leaderboard</h1>
      <p className="lede">SAEs ranked by one metric of their final checkpoint, plotted against their L0 as in the paper. Random-init LMs' SAEs give the floor, a linear probe the ceiling.</p>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Leaderboard filters">
        <label>
          Game
          <select value={game} onChange={(e) => setGame(e.target.value)}>
            <option value="othello">Othello</option>
            <option value="chess">Chess</option>
          </select>
        </label>
        <label>
          Layer
          <select value={layer} onChange={(e) => setLayer(e.target.value)}>
            <option value="">all layers</option>
            {layers.map((l) => (
              <option key={l} value={String(l)}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          Metric
          <select value={metric} onChange={(e) => setMetric(e.target.value)}>
            {Object.entries(METRICS).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        {supervised ? (
          <label>
            Family
            <select value={family} onChange={(e) => setFamily(e.target.value)}>
              {families.length === 0 ? <option value="">(none evaluated)</option> : null}
              {(families.includes(family) || !family ? families : [family, ...families]).map((f) => (
                <option key={f} value={f}>
                  {familyLabel(f)}
                </option>
              ))}
            </select>
          </label>
        ) : null}
      </form>
      <Async state={board} what="the leaderboard">
        {(d) => <LeaderboardView data={d.leaderboard} />}
      </Async>
    </>
  );
}

function LeaderboardView({ data }: { data: LeaderboardQuery['leaderboard'] }) {
  const title = metricName(data.metric, data.family);
  const ceiling = data.probe ? (data.metric === 'coverage' ? (data.probe.f1 ?? data.probe.accuracy) : data.probe.accuracy) : null;
  const floor = data.randomInit.length ? Math.max(...data.randomInit.map((e) => e.value)) : null;
  // Trained (and imported) LMs' SAEs as filled markers, drawn last (on top); random-init LMs' SAEs hollow, the floor.
  const points = useMemo(
    () => [
      ...data.entries.filter((e) => e.l0 != null).map((e) => ({ ...e, lm: 'trained' })),
      ...data.randomInit.filter((e) => e.l0 != null).map((e) => ({ ...e, lm: 'random-init' })),
    ],
    [data],
  );
  const onPick = useCallback((d: unknown) => navigate(`/sae/${(d as Entry).sae.id}`), []);
  const options = useMemo<Plot.PlotOptions>(() => {
    const positive = points.every((p) => (p.l0 ?? 0) > 0);
    return {
      width: 1100,
      height: 380,
      marginLeft: 56,
      marginRight: 24,
      inset: 16,
      grid: true,
      x: { label: 'L0 (active features per token)', type: positive && points.length > 1 ? 'log' : 'linear' },
      y: { label: title, domain: [0, Math.max(1e-9, ceiling ?? 0, floor ?? 0, ...points.map((p) => p.value)) * 1.05] },
      color: { legend: true, label: 'Trainer', domain: [...new Set(points.map((p) => p.trainer))].sort() },
      marks: [
        ...(floor != null ? [Plot.ruleY([floor], { stroke: '#888', strokeDasharray: '4,3' }), Plot.text([floor], { y: (d: number) => d, frameAnchor: 'left', dy: -6, text: () => 'random-init LM (best)', fill: '#555' })] : []),
        ...(ceiling != null ? [Plot.ruleY([ceiling], { stroke: '#b45309', strokeDasharray: '6,3' }), Plot.text([ceiling], { y: (d: number) => d, frameAnchor: 'left', dy: -6, text: () => 'linear probe (ceiling)', fill: '#b45309' })] : []),
        Plot.dot(
          points.filter((p) => p.lm !== 'trained'),
          { x: 'l0', y: 'value', stroke: 'trainer', fill: 'white', strokeWidth: 2, symbol: (d: Entry) => TRAINER_SYMBOLS[d.trainer] ?? 'circle', r: 6, tip: true, channels: { SAE: (d: Entry) => d.sae.name, LM: 'lm' } },
        ),
        Plot.dot(
          points.filter((p) => p.lm === 'trained'),
          { x: 'l0', y: 'value', fill: 'trainer', stroke: 'white', symbol: (d: Entry) => TRAINER_SYMBOLS[d.trainer] ?? 'circle', r: 6, tip: true, channels: { SAE: (d: Entry) => d.sae.name, LM: 'lm' } },
        ),
      ],
    };
  }, [points, title, ceiling, floor]);

  if (!data.entries.length && !data.randomInit.length) return <p className="status">No evaluated SAE has {title} here yet.</p>;
  return (
    <section aria-label="Results">
      <h2>
        {title} vs L0{data.layer != null ? `, layer ${data.layer}` : ''}
      </h2>
      <PlotFigure options={options} label={`${title} against L0, one point per SAE, coloured and shaped by trainer; click a point to open its SAE`} onPick={onPick} />
      <p className="legend-note">
        Filled markers: SAEs of trained LMs; hollow: of random-init LMs. Shapes: {Object.entries(TRAINER_SYMBOLS).filter(([t]) => points.some((p) => p.trainer === t)).map(([t, s]) => `${t} = ${s}`).join(', ')}.
        {floor != null ? ` Floor: ${fmt(floor)}.` : ''}
        {ceiling != null ? ` Ceiling: ${fmt(ceiling)}.` : ''}
      </p>
      <div className="table-wrap">
        <table className="board-table" aria-label={`SAEs ranked by ${title}`}>
          <thead>
            <tr>
              <th scope="col">Rank</th>
              <th scope="col">SAE</th>
              <th scope="col">Trainer</th>
              <th scope="col">Layer</th>
              <th scope="col">L0</th>
              <th scope="col">{title}</th>
            </tr>
          </thead>
          <tbody>
            {data.entries.map((e) => (
              <tr key={e.sae.id} data-sae={e.sae.id}>
                <td>{e.rank}</td>
                <td>
                  <Link to={`/sae/${e.sae.id}`}>{e.sae.name}</Link>
                </td>
                <td>{e.trainer}</td>
                <td>{e.sae.layer}</td>
                <td>{fmt(e.l0, 2)}</td>
                <td className="num" data-value={e.value}>
                  {fmt(e.value)}
                </td>
              </tr>
            ))}
            {data.randomInit.map((e) => (
              <tr key={`r${e.sae.id}`} className="random" data-sae={e.sae.id}>
                <td>–</td>
                <td>
                  <Link to={`/sae/${e.sae.id}`}>{e.sae.name}</Link> <span className="tag">random-init LM</span>
                </td>
                <td>{e.trainer}</td>
                <td>{e.sae.layer}</td>
                <td>{fmt(e.l0, 2)}</td>
                <td className="num" data-value={e.value}>
                  {fmt(e.value)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
