// An Othello board in SVG. Squares are named as saeboard names them: a row letter (a–h, top to
// bottom) and a column number (1–8, left to right), index = row·8 + column. With `legal` and
// `onPlay`, legal squares are buttons (mouse and keyboard).
const ROWS = 'abcdefgh';
export const squareOfIndex = (p: number) => `${ROWS[p >> 3]}${(p & 7) + 1}`;

export const OTHELLO_START = '...........................OX......XO...........................';
export const OTHELLO_START_MOVES = ['c4', 'd3', 'e6', 'f5'];

export function OthelloBoard({
  board,
  label,
  highlight,
  legal,
  onPlay,
  size = 320,
}: {
  board: string;
  label: string;
  highlight?: string | null;
  legal?: readonly string[];
  onPlay?: (square: string) => void;
  size?: number;
}) {
  const cell = 40;
  const legalSet = new Set(legal ?? []);
  const black = [...board].filter((c) => c === 'X').length;
  const white = [...board].filter((c) => c === 'O').length;
  return (
    <svg
      className="othello"
      viewBox={`-20 -20 ${8 * cell + 24} ${8 * cell + 24}`}
      width={size}
      height={size}
      role="group"
      aria-label={`${label}: Othello board, ${black} black and ${white} white discs`}
      data-board={board}
    >
      {[...'12345678'].map((n, c) => (
        <text key={`c${n}`} x={c * cell + cell / 2} y={-6} className="coord" textAnchor="middle" aria-hidden="true">
          {n}
        </text>
      ))}
      {[...ROWS].map((l, r) => (
        <text key={`r${l}`} x={-10} y={r * cell + cell / 2 + 4} className="coord" textAnchor="middle" aria-hidden="true">
          {l}
        </text>
      ))}
      {Array.from({ length: 64 }, (_, p) => {
        const r = p >> 3;
        const c = p & 7;
        const sq = squareOfIndex(p);
        const piece = board[p];
        const isLegal = legalSet.has(sq) && onPlay;
        return (
          <g key={p} data-square={sq} data-piece={piece === 'X' ? 'black' : piece === 'O' ? 'white' : undefined}>
            <rect
              x={c * cell}
              y={r * cell}
              width={cell}
              height={cell}
              className={`sq${highlight === sq ? ' hl' : ''}${isLegal ? ' legal' : ''}`}
              {...(isLegal
                ? {
                    role: 'button',
                    tabIndex: 0,
                    'aria-label': `Play ${sq}`,
                    onClick: () => onPlay!(sq),
                    onKeyDown: (e: React.KeyboardEvent) => {
                      if (e.key === 'Enter' || e.key === ' ') {
                        e.preventDefault();
                        onPlay!(sq);
                      }
                    },
                  }
                : {})}
            />
            {piece === 'X' || piece === 'O' ? <circle cx={c * cell + cell / 2} cy={r * cell + cell / 2} r={cell * 0.4} className={piece === 'X' ? 'disc black' : 'disc white'} /> : null}
            {isLegal && piece === '.' ? <circle cx={c * cell + cell / 2} cy={r * cell + cell / 2} r={cell * 0.12} className="hint" pointerEvents="none" /> : null}
          </g>
        );
      })}
    </svg>
  );
}
