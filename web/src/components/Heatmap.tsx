// An 8×8 heatmap of a feature's best F1 per square (squareF1). Othello: row letters top to
// bottom; chess: rank 8 at the top.
export function Heatmap({ cells, game, label }: { cells: { square: string; row: number; column: number; f1: number }[]; game: string; label: string }) {
  const cell = 34;
  const at = new Map(cells.map((c) => [`${c.row},${c.column}`, c]));
  const y = (row: number) => (game === 'chess' ? 7 - row : row);
  return (
    <svg className="heatmap" viewBox={`0 0 ${8 * cell} ${8 * cell}`} width={8 * cell} height={8 * cell} role="img" aria-label={label}>
      {Array.from({ length: 64 }, (_, i) => {
        const row = i >> 3;
        const column = i & 7;
        const c = at.get(`${row},${column}`);
        const f1 = c?.f1 ?? 0;
        return (
          <g key={i}>
            <rect x={column * cell} y={y(row) * cell} width={cell} height={cell} fill={`rgba(37, 99, 235, ${0.05 + 0.95 * f1})`} stroke="#fff">
              <title>{c ? `${c.square}: F1 ${f1.toFixed(3)}` : 'no alignment stored'}</title>
            </rect>
            <text x={column * cell + cell / 2} y={y(row) * cell + cell / 2 + 4} textAnchor="middle" className={f1 > 0.55 ? 'hm light' : 'hm'}>
              {c ? f1.toFixed(2).replace(/^0/, '') : ''}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
