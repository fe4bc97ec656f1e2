/**
 * perft: the number of distinct move sequences of a given length from a position, counting moves
 * the way the labelling engine does (`get_valid_moves`, passes folded into the next move). A
 * finished game (no valid moves for either side) counts as one leaf, as it cannot be extended.
 * From the start position: 1, 4, 12, 56, 244, 1396, 8200, 55092, 390216, ... (plies 0..8).
 */
import { OthelloBoard, movesMask } from './board.js';

export function perft(board: OthelloBoard, depth: number): number {
  return perftRec(board.blackLo, board.blackHi, board.whiteLo, board.whiteHi, board.nextColor === 1, depth);
}

const buf = new Int32Array(2);
const tmp = new OthelloBoard();

function perftRec(bLo: number, bHi: number, wLo: number, wHi: number, blackToMove: boolean, depth: number): number {
  if (depth === 0) return 1;
  let ownHad = true;
  if (blackToMove) movesMask(bLo, bHi, wLo, wHi, buf);
  else movesMask(wLo, wHi, bLo, bHi, buf);
  let mLo = buf[0];
  let mHi = buf[1];
  if ((mLo | mHi) === 0) {
    ownHad = false;
    if (blackToMove) movesMask(wLo, wHi, bLo, bHi, buf);
    else movesMask(bLo, bHi, wLo, wHi, buf);
    mLo = buf[0];
    mHi = buf[1];
    if ((mLo | mHi) === 0) return 1;
  }
  let total = 0;
  for (let half = 0; half < 2; half++) {
    let m = half === 0 ? mLo : mHi;
    while (m !== 0) {
      const bit = m & -m;
      m ^= bit;
      const p = (31 - Math.clz32(bit)) + half * 32;
      tmp.blackLo = bLo;
      tmp.blackHi = bHi;
      tmp.whiteLo = wLo;
      tmp.whiteHi = wHi;
      tmp.nextColor = blackToMove ? 1 : -1;
      tmp.lastColor = 0;
      tmp.playValid(p, ownHad);
      total += perftRec(tmp.blackLo, tmp.blackHi, tmp.whiteLo, tmp.whiteHi, tmp.nextColor === 1, depth - 1);
    }
  }
  return total;
}
