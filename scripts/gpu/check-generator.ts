/**
 * Checks the GPU game generator of scripts/gpu/train_othello_lm.py against saeboard's own Othello
 * engine and tokenizer:
 *
 *   python3 scripts/gpu/train_othello_lm.py --device cpu --dump-games /tmp/games.bin --games 3000
 *   npx tsx scripts/gpu/check-generator.ts /tmp/games.bin
 *
 * Every game is replayed with OthelloBoard.playStrict (each move must be in get_valid_moves()),
 * the board after every move and the valid-move set the generator recorded must equal the
 * engine's, the game must end exactly when the engine says it is over, and the token row must be
 * saeboard's encoding (encodeOthello, padded with 0). Then the length / pass statistics are
 * compared with saeboard's own uniform generator (RandomOthelloGames) on as many games: both draw
 * uniformly from get_valid_moves(), so they must agree within sampling error. Exit 1 on any mismatch.
 */
import { readFileSync } from 'node:fs';
import { OthelloBoard, RandomOthelloGames, encodeOthello, tokenToSquare } from '../../src/games/othello/index.js';

const file = process.argv[2];
if (!file) throw new Error('usage: check-generator.ts GAMES.bin');
const buf = readFileSync(file);
const n = buf.readUInt32LE(0);
const tokens = new Uint8Array(buf.buffer, buf.byteOffset + 4, n * 60);
const boardsAt = 4 + n * 60;
const validAt = boardsAt + n * 60 * 2 * 8;
if (buf.length !== validAt + n * 60 * 8) throw new Error(`${file}: size ${buf.length} does not match ${n} games`);
const i64 = (off: number) => buf.readBigInt64LE(off);
const halves = (lo: number, hi: number) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const asU64 = (x: bigint) => BigInt.asUintN(64, x);

const fail = (g: number, msg: string): never => {
  console.error(`game ${g}: ${msg}`);
  process.exit(1);
};

const mask = new Int32Array(2);
let lengthSum = 0;
let withPass = 0;
let moves = 0;
for (let g = 0; g < n; g++) {
  const row = tokens.subarray(g * 60, (g + 1) * 60);
  const b = new OthelloBoard();
  const squares: number[] = [];
  for (let i = 0; i < 60; i++) {
    const t = row[i];
    if (t === 0) {
      if (row.subarray(i).some((x) => x !== 0)) fail(g, `padding at ${i} followed by a move`);
      break;
    }
    const p = tokenToSquare(t);
    try {
      b.playStrict(p);
    } catch (e) {
      fail(g, `move ${i} (token ${t}): ${(e as Error).message}`);
    }
    squares.push(p);
    const black = i64(boardsAt + ((g * 60 + i) * 2) * 8);
    const white = i64(boardsAt + ((g * 60 + i) * 2 + 1) * 8);
    if (asU64(black) !== halves(b.blackLo, b.blackHi) || asU64(white) !== halves(b.whiteLo, b.whiteHi)) fail(g, `board after move ${i} differs`);
    b.validMovesMask(mask);
    if (asU64(i64(validAt + (g * 60 + i) * 8)) !== halves(mask[0], mask[1])) fail(g, `valid moves after move ${i} differ`);
  }
  if (!b.isGameOver()) fail(g, `the generator stopped after ${squares.length} moves but the game is not over`);
  const want = encodeOthello(squares, 60);
  if (want.some((x, i) => x !== row[i])) fail(g, 'tokens differ from encodeOthello');
  lengthSum += squares.length;
  moves += squares.length;
  if (b.passes > 0) withPass++;
}

// saeboard's generator on as many games (no de-duplication, like the training stream)
const ref = new RandomOthelloGames({ seed: 4242, dedupe: false });
const sq = new Uint8Array(64);
let refLengthSum = 0;
let refLengthSq = 0;
for (let g = 0; g < n; g++) {
  const len = ref.next(sq);
  refLengthSum += len;
  refLengthSq += len * len;
}
const refWithPass = ref.stats.keptWithPass;
const mean = lengthSum / n;
const refMean = refLengthSum / n;
const sd = Math.sqrt(refLengthSq / n - refMean * refMean);
const seMean = Math.sqrt(2) * sd / Math.sqrt(n);
const pass = withPass / n;
const refPass = refWithPass / n;
const sePass = Math.sqrt(2 * Math.max(refPass, 1 / n) * (1 - refPass) / n);
const report = { games: n, moves, meanLength: mean, saeboardMeanLength: refMean, withPass: pass, saeboardWithPass: refPass };
console.log(JSON.stringify(report));
if (Math.abs(mean - refMean) > 4 * seMean + 1e-9) fail(-1, `mean length ${mean} vs saeboard's ${refMean} (> 4 s.e.)`);
if (Math.abs(pass - refPass) > 4 * sePass) fail(-1, `games with a pass ${pass} vs saeboard's ${refPass} (> 4 s.e.)`);
console.log('generator OK: every move legal, boards, valid-move sets, game ends and tokens equal saeboard\'s');
