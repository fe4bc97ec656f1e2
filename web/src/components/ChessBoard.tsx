// A chess board: chessground (lichess's board) over a FEN. With `dests` and `onMove`, the side to
// move can drag or click its legal moves.
import { Chessground } from 'chessground';
import type { Api } from 'chessground/api';
import type { Key } from 'chessground/types';
import 'chessground/assets/chessground.base.css';
import 'chessground/assets/chessground.brown.css';
import 'chessground/assets/chessground.cburnett.css';
import { useEffect, useRef } from 'react';

export function ChessBoard({
  fen,
  label,
  highlight,
  dests,
  turn,
  onMove,
  size = 320,
}: {
  fen: string;
  label: string;
  highlight?: [string, string] | null;
  dests?: Map<string, string[]>;
  turn?: 'white' | 'black';
  onMove?: (from: string, to: string) => void;
  size?: number;
}) {
  const el = useRef<HTMLDivElement>(null);
  const api = useRef<Api | null>(null);
  const onMoveRef = useRef(onMove);
  onMoveRef.current = onMove;
  useEffect(() => {
    if (!el.current) return;
    api.current = Chessground(el.current, { coordinates: true, viewOnly: !onMoveRef.current, animation: { enabled: false } });
    return () => api.current?.destroy();
  }, []);
  useEffect(() => {
    api.current?.set({
      fen,
      lastMove: highlight ? (highlight as Key[]) : undefined,
      turnColor: turn,
      movable: dests
        ? { free: false, color: turn, dests: dests as Map<Key, Key[]>, showDests: true, events: { after: (from, to) => onMoveRef.current?.(from, to) } }
        : { color: undefined, dests: new Map() },
    });
  }, [fen, highlight, dests, turn]);
  return (
    <div className="chess-wrap" style={{ width: size, height: size }} role="img" aria-label={`${label}: chess position ${fen}`} data-fen={fen}>
      <div ref={el} className="cg-wrap" style={{ width: size, height: size }} />
    </div>
  );
}
