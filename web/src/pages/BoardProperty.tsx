import * as Plot from '@observablehq/plot';
import { useMemo } from 'react';
import { useQuery } from '../api';
import { graphql } from '../gql';
import type { PropertyPageQuery } from '../gql/graphql';
import { PlotFigure } from '../components/PlotFigure';
import { Async, fmt } from '../components/Status';
import { Link } from '../router';

const PropertyQuery = graphql(`
  query PropertyPage($id: ID!, $ref: String!) {
    boardProperty(id: $id) {
      id
      name
      game
      family
      group
      square
      className
      masked
      bestF1
      bestProbe {
        accuracy
        f1
        layer
      }
    }
    features(filter: { boardProperty: $ref, allCheckpoints: true }, first: 100, orderBy: F1) {
      edges {
        node {
          id
          index
          sae {
            id
            name
            trainer
            layer
          }
          saeCheckpoint {
            id
            step
            isFinal
          }
        }
        alignment {
          f1
          precision
          recall
          threshold
        }
      }
    }
  }
`);

type Data = PropertyPageQuery;

export function BoardPropertyPage({ id }: { id: string }) {
  const q = useQuery(PropertyQuery, { id, ref: id });
  return <Async state={q} what={`board property ${id}`}>{(d) => <PropertyView d={d} />}</Async>;
}

function PropertyView({ d }: { d: Data }) {
  const p = d.boardProperty;
  const edges = d.features.edges;
  const finals = edges.filter((e) => e.node.saeCheckpoint.isFinal);
  // Per SAE and checkpoint step: the best F1 of any of its features for this property.
  const overSteps = useMemo(() => {
    const best = new Map<string, { sae: string; step: number; f1: number }>();
    for (const e of edges) {
      const key = `${e.node.sae.name}|${e.node.saeCheckpoint.step}`;
      const f1 = e.alignment?.f1 ?? 0;
      if ((best.get(key)?.f1 ?? -1) < f1) best.set(key, { sae: e.node.sae.name, step: e.node.saeCheckpoint.step, f1 });
    }
    return [...best.values()].sort((a, b) => a.sae.localeCompare(b.sae) || a.step - b.step);
  }, [edges]);
  const options = useMemo<Plot.PlotOptions>(
    () => ({
      height: 240,
      marginLeft: 44,
      grid: true,
      x: { label: 'SAE training step' },
      y: { label: 'best F1', domain: [0, 1] },
      color: { legend: true, label: 'SAE' },
      marks: [Plot.lineY(overSteps, { x: 'step', y: 'f1', stroke: 'sae', marker: 'circle' }), Plot.tip(overSteps, Plot.pointer({ x: 'step', y: 'f1', title: (r: { sae: string; step: number; f1: number }) => `${r.sae}, step ${r.step}: F1 ${r.f1.toFixed(3)}` }))],
    }),
    [overSteps],
  );
  return (
    <>
      <p className="crumbs">
        <Link to={`/?game=${p.game}`}>Leaderboard</Link> › Board property
      </p>
      <h1>{p.name}</h1>
      <dl className="kv stats">
        <div>
          <dt>Family</dt>
          <dd>
            {p.family} ({p.group})
          </dd>
        </div>
        <div>
          <dt>Square</dt>
          <dd>{p.square ?? 'whole board'}</dd>
        </div>
        <div>
          <dt>Best F1 (final checkpoints)</dt>
          <dd data-stat="bestF1">{fmt(p.bestF1)}</dd>
        </div>
        <div>
          <dt>Linear probe (family)</dt>
          <dd>{p.bestProbe ? `accuracy ${fmt(p.bestProbe.accuracy)} at layer ${p.bestProbe.layer}` : 'none trained'}</dd>
        </div>
      </dl>
      <section aria-labelledby="track">
        <h2 id="track">Features that track it (final checkpoints), best first</h2>
        {finals.length ? (
          <div className="table-wrap">
            <table aria-labelledby="track">
              <thead>
                <tr>
                  <th scope="col">Feature</th>
                  <th scope="col">SAE</th>
                  <th scope="col">Trainer</th>
                  <th scope="col">F1</th>
                  <th scope="col">Precision</th>
                  <th scope="col">Recall</th>
                  <th scope="col">Threshold</th>
                </tr>
              </thead>
              <tbody>
                {finals.map((e) => (
                  <tr key={e.node.id} data-feature={e.node.id}>
                    <td>
                      <Link to={`/feature/${e.node.id}?bsp=${p.id}`}>#{e.node.index}</Link>
                    </td>
                    <td>
                      <Link to={`/sae/${e.node.sae.id}`}>{e.node.sae.name}</Link>
                    </td>
                    <td>{e.node.sae.trainer}</td>
                    <td className="num" data-value={e.alignment?.f1}>
                      {fmt(e.alignment?.f1)}
                    </td>
                    <td className="num">{fmt(e.alignment?.precision)}</td>
                    <td className="num">{fmt(e.alignment?.recall)}</td>
                    <td className="num">{fmt(e.alignment?.threshold, 2)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="status">No feature of a final checkpoint is aligned with this property.</p>
        )}
      </section>
      <section aria-labelledby="steps">
        <h2 id="steps">F1 over training checkpoints</h2>
        {overSteps.length ? <PlotFigure options={options} label={`Best F1 for ${p.name} per SAE over training steps`} /> : <p className="status">No checkpoints aligned.</p>}
      </section>
    </>
  );
}
