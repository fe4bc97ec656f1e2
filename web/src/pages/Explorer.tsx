import { Chess, normalizeMove } from 'chessops/chess';
import { chessgroundDests } from 'chessops/compat';
import { INITIAL_FEN, parseFen } from 'chessops/fen';
import { makeSan } from 'chessops/san';
import { parseUci } from 'chessops/util';
import { useMemo, useState } from 'react';
import { useQuery } from '../api';
import { graphql } from '../gql';
import type { AnalyzeQuery } from '../gql/graphql';
import { ChessBoard } from '../components/ChessBoard';
import { OTHELLO_START, OTHELLO_START_MOVES, OthelloBoard } from '../components/OthelloBoard';
import { Async, ErrorBox, fmt, Loading } from '../components/Status';
import { Link, useParam } from '../router';

const SaesQuery = graphql(`
  query ExplorerSaes($game: GameId!) {
    saes(filter: { game: $game }, first: 100) {
      edges {
        node {
          id
          name
          trainer
          layer
          languageModel {
            name
            origin
          }
        }
      }
    }
  }
`);

const AnalyzeQueryDoc = graphql(`
  query Analyze($game: GameId!, $moves: String!, $saes: [ID!]!) {
    analyzePosition(game: $game, moves: $moves, saes: $saes, maxFeatures: 12) {
      board
      toMove
      moves
      legalMoves
      trueProperties {
        id
        name
        family
      }
      saes {
        sae {
          id
          name
          trainer
        }
        activeFeatureCount
        features {
          featureIndex
          value
          relativeActivation
          feature {
            id
          }
          trueAlignments {
            f1
            boardProperty {
              id
              name
            }
          }
        }
      }
    }
  }
`);

type Analysis = AnalyzeQuery['analyzePosition'];

export function ExplorerPage() {
  const [game, setGame] = useParam('game', 'othello');
  const [movesParam, setMoves] = useParam('moves', '');
  const [saesParam, setSaes] = useParam('saes', '');
  const moves = movesParam.split(/\s+/).filter(Boolean);
  const saeList = useQuery(SaesQuery, { game: game as 'othello' | 'chess' });
  const all = saeList.data?.saes.edges.map((e) => e.node) ?? [];
  const chosen = saesParam ? saesParam.split(',').filter(Boolean) : all.filter((s) => s.languageModel.origin !== 'random-init').slice(0, 3).map((s) => s.id);
  const analysis = useQuery(AnalyzeQueryDoc, { game: game as 'othello' | 'chess', moves: moves.join(' '), saes: chosen }, { skip: moves.length === 0 || !saeList.data });
  const [last, setLast] = useState<Analysis | null>(null);
  const current = moves.length === 0 ? null : (analysis.data?.analyzePosition ?? (analysis.loading ? last : null));
  if (analysis.data && analysis.data.analyzePosition !== last) setLast(analysis.data.analyzePosition);

  const board = current?.board ?? (game === 'chess' ? INITIAL_FEN : OTHELLO_START);
  const legal = moves.length === 0 ? (game === 'chess' ? null : OTHELLO_START_MOVES) : (current?.legalMoves ?? []);
  const toMove = (current?.toMove ?? (game === 'chess' ? 'white' : 'black')) as 'white' | 'black';
  const busy = analysis.loading && moves.length > 0;

  const play = (move: string) => setMoves([...moves, move].join(' '));
  const toggleSae = (id: string) => {
    const set = new Set(chosen);
    if (set.has(id)) set.delete(id);
    else if (set.size < 8) set.add(id);
    setSaes([...set].join(','));
  };

  // Chess: legal moves as chessground destinations, and UCI → SAN for the move list.
  const chessPos = useMemo(() => (game === 'chess' ? Chess.fromSetup(parseFen(board).unwrap()).unwrap() : null), [game, board]);
  const chessLegal = useMemo(() => {
    if (!chessPos) return [];
    if (legal) return legal;
    const out: string[] = [];
    for (const [from, tos] of chessgroundDests(chessPos)) for (const to of tos) if (!(from === 'e1' && (to === 'h1' || to === 'a1')) && !(from === 'e8' && (to === 'h8' || to === 'a8'))) out.push(`${from}${to}`);
    return out;
  }, [chessPos, legal]);
  const dests = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const u of chessLegal) m.set(u.slice(0, 2), [...new Set([...(m.get(u.slice(0, 2)) ?? []), u.slice(2, 4)])]);
    return m;
  }, [chessLegal]);
  const sanOf = (uci: string) => (chessPos ? makeSan(chessPos, normalizeMove(chessPos, parseUci(uci)!)) : uci);
  const playUci = (uci: string) => play(sanOf(uci));
  const options = game === 'chess' ? chessLegal.filter((u) => u.length === 4 || u.endsWith('q')).map((u) => ({ value: u, label: sanOf(u) })) : (legal ?? []).map((s) => ({ value: s, label: s }));
  const [pick, setPick] = useState('');

  return (
    <>
      <h1>Explorer</h1>
      <p className="lede">Play moves (legal ones only); the chosen SAEs run live on the position via analyzePosition, next to the board properties that hold.</p>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Explorer settings">
        <label>
          Game
          <select
            value={game}
            onChange={(e) => {
              const p = new URLSearchParams({ game: e.target.value });
              history.replaceState(null, '', `/explorer?${p}`);
              setGame(e.target.value);
            }}
          >
            <option value="othello">Othello</option>
            <option value="chess">Chess</option>
          </select>
        </label>
      </form>
      <div className="explorer">
        <section aria-labelledby="pos" className="board-col">
          <h2 id="pos">Position {busy ? <span className="tag">analysing…</span> : null}</h2>
          {game === 'chess' ? (
            <ChessBoard fen={board} label="Explorer board" dests={busy ? new Map() : dests} turn={toMove} onMove={(from, to) => playUci(chessLegal.find((u) => u.startsWith(from + to)) ?? from + to)} />
          ) : (
            <OthelloBoard board={board} label="Explorer board" legal={busy ? [] : (legal ?? [])} onPlay={play} highlight={moves[moves.length - 1]} />
          )}
          <form
            className="move-form"
            onSubmit={(e) => {
              e.preventDefault();
              const m = pick || options[0]?.value;
              if (m) (game === 'chess' ? playUci : play)(m);
              setPick('');
            }}
          >
            <label>
              Legal move
              <select value={pick} onChange={(e) => setPick(e.target.value)} disabled={busy || !options.length}>
                {options.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={busy || !options.length}>
              Play
            </button>
            <button type="button" onClick={() => setMoves(moves.slice(0, -1).join(' '))} disabled={!moves.length}>
              Undo
            </button>
            <button type="button" onClick={() => setMoves('')} disabled={!moves.length}>
              Reset
            </button>
          </form>
          <p className="moves" aria-label="Moves played" data-moves={moves.join(' ')}>
            {moves.length ? `Moves: ${moves.join(' ')}` : 'No moves yet: play one.'} {moves.length ? `(${toMove} to move)` : ''}
          </p>
        </section>
        <section aria-labelledby="saes-h" className="feat-col">
          <h2 id="saes-h">SAEs</h2>
          <Async state={saeList} what="SAEs">
            {() => (
              <fieldset className="sae-pick">
                <legend>Run these SAEs (at most 8)</legend>
                {all.map((s) => (
                  <label key={s.id} className="check">
                    <input type="checkbox" checked={chosen.includes(s.id)} onChange={() => toggleSae(s.id)} />
                    {s.name} <span className="muted">({s.trainer}, layer {s.layer}{s.languageModel.origin === 'random-init' ? ', random-init LM' : ''})</span>
                  </label>
                ))}
                {!all.length ? <p className="status">No SAE registered for {game}.</p> : null}
              </fieldset>
            )}
          </Async>
          {analysis.error ? <ErrorBox error={analysis.error} retry={analysis.refetch} /> : null}
          {moves.length === 0 ? <p className="status">Play a move to see the active features.</p> : current ? <AnalysisView a={current} /> : busy ? <Loading what="the analysis" /> : null}
        </section>
      </div>
    </>
  );
}

function AnalysisView({ a }: { a: Analysis }) {
  const byFamily = new Map<string, Analysis['trueProperties']>();
  for (const p of a.trueProperties) byFamily.set(p.family, [...(byFamily.get(p.family) ?? []), p]);
  return (
    <>
      {a.saes.map((s) => (
        <div key={s.sae.id} className="sae-result" data-sae={s.sae.id}>
          <h3>
            <Link to={`/sae/${s.sae.id}`}>{s.sae.name}</Link> <span className="muted">{s.activeFeatureCount} active</span>
          </h3>
          <table aria-label={`Active features of ${s.sae.name}`}>
            <thead>
              <tr>
                <th scope="col">Feature</th>
                <th scope="col">Value</th>
                <th scope="col">of max</th>
                <th scope="col">Aligned properties that hold</th>
              </tr>
            </thead>
            <tbody>
              {s.features.map((f) => (
                <tr key={f.featureIndex} data-feature-index={f.featureIndex}>
                  <td>{f.feature ? <Link to={`/feature/${f.feature.id}`}>#{f.featureIndex}</Link> : `#${f.featureIndex}`}</td>
                  <td className="num">{fmt(f.value)}</td>
                  <td className="num">{f.relativeActivation == null ? '–' : `${Math.round(f.relativeActivation * 100)}%`}</td>
                  <td>
                    {f.trueAlignments.slice(0, 3).map((t) => (
                      <span key={t.boardProperty.id} className="chip">
                        <Link to={`/property/${t.boardProperty.id}`}>{t.boardProperty.name}</Link> F1 {fmt(t.f1, 2)}
                      </span>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
      <h3>Board properties that hold</h3>
      {[...byFamily.entries()].map(([family, props]) => (
        <details key={family} className="props" data-family={family}>
          <summary>
            {family}: {props.length}
          </summary>
          <p>
            {props.map((p, i) => (
              <span key={p.id}>
                {i ? ', ' : ''}
                <Link to={`/property/${p.id}`}>{p.name}</Link>
              </span>
            ))}
          </p>
        </details>
      ))}
    </>
  );
}
