/**
 * Games played by a real engine, with no download: the npm `stockfish` package (Stockfish 19 lite,
 * single-threaded WASM) run as a child process and driven over UCI. Each game opens with a few
 * uniformly random legal half-moves, then every move is drawn from a softmax over Stockfish's
 * MultiPV candidates at low depth (temperature in centipawns; 0 = always the best move).
 *
 * Reproducibility: with a fixed seed, depth and options, the same engine build, one thread and a
 * hash cleared (`ucinewgame`) before each game, the engine search is deterministic and our random
 * choices come from a seeded PRNG, so the same games come out. Different Stockfish builds or
 * options (Hash, Threads) may change the engine's scores and hence the games.
 *
 * These are engine games, not human games; `source` says so.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Chess, normalizeMove, type Position } from 'chessops/chess';
import { makeSanAndPlay } from 'chessops/san';
import type { NormalMove } from 'chessops/types';
import { kingCastlesTo, makeSquare, parseUci, roleToChar } from 'chessops/util';
import { SaeboardError, UserInputError } from '../../errors.js';
import { PROJECT_ROOT } from '../../version.js';
import { ChessPosition } from './position.js';
import type { ChessTermination, GeneratedChessGame } from './random.js';
import { seededRng, type Rng } from './rng.js';
import { formatTranscript } from './transcript.js';

/** Default engine: the lite single-threaded build, referenced directly (the package's postinstall
 * symlink `bin/stockfish.wasm` is absolute and breaks when node_modules moves). */
export const DEFAULT_STOCKFISH_SCRIPT = path.join(PROJECT_ROOT, 'node_modules', 'stockfish', 'bin', 'stockfish-19-lite-single.js');

export interface UciCandidate {
  /** Move in standard UCI (castling as e1g1). */
  uci: string;
  /** Score for the side to move, centipawns; mates map to ±(100000 − 100·plies). */
  scoreCp: number;
}

/** A UCI engine in a child process. One request at a time. */
export class UciEngine {
  private lines: string[] = [];
  private waiter: (() => void) | null = null;
  private exited = false;
  private stderrTail = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
    rl.on('line', (line) => {
      this.lines.push(line);
      this.waiter?.();
    });
    child.stderr.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-500);
    });
    child.on('exit', () => {
      this.exited = true;
      this.waiter?.();
    });
  }

  static async start(opts: { script?: string; hashMb?: number; timeoutMs?: number } = {}): Promise<UciEngine> {
    const script = opts.script ?? DEFAULT_STOCKFISH_SCRIPT;
    if (!existsSync(script)) throw new UserInputError(`Stockfish script not found: ${script} (is the npm package 'stockfish' installed?)`);
    const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'], cwd: path.dirname(script) });
    const engine = new UciEngine(child);
    engine.send('uci');
    await engine.readUntil((l) => l === 'uciok', opts.timeoutMs ?? 30_000);
    engine.send('setoption name Threads value 1');
    engine.send(`setoption name Hash value ${opts.hashMb ?? 16}`);
    await engine.ready(opts.timeoutMs);
    return engine;
  }

  send(cmd: string): void {
    if (this.exited) throw new SaeboardError('UNAVAILABLE', `Stockfish exited unexpectedly${this.stderrTail ? ': ' + this.stderrTail.trim() : ''}`);
    this.child.stdin.write(cmd + '\n');
  }

  async ready(timeoutMs = 30_000): Promise<void> {
    this.send('isready');
    await this.readUntil((l) => l === 'readyok', timeoutMs);
  }

  /** Collect output lines until one satisfies `done` (inclusive). */
  async readUntil(done: (line: string) => boolean, timeoutMs = 60_000): Promise<string[]> {
    const collected: string[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.lines.length > 0) {
        const line = this.lines.shift()!;
        collected.push(line);
        if (done(line)) return collected;
      }
      if (this.exited) throw new SaeboardError('UNAVAILABLE', `Stockfish exited unexpectedly${this.stderrTail ? ': ' + this.stderrTail.trim() : ''}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new SaeboardError('UNAVAILABLE', `Stockfish did not answer within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          resolve();
        };
      });
    }
  }

  /** MultiPV analysis of the position after `movesUci` from the start, best first. */
  async candidates(movesUci: readonly string[], depth: number, multiPv: number): Promise<UciCandidate[]> {
    this.send(`setoption name MultiPV value ${multiPv}`);
    this.send(`position startpos${movesUci.length ? ' moves ' + movesUci.join(' ') : ''}`);
    this.send(`go depth ${depth}`);
    const lines = await this.readUntil((l) => l.startsWith('bestmove'));
    const byPv = new Map<number, UciCandidate>();
    for (const line of lines) {
      if (!line.startsWith('info ') || !line.includes(' pv ')) continue;
      const parts = line.split(' ');
      const pvIdx = parts.indexOf('multipv');
      const scoreIdx = parts.indexOf('score');
      const moveIdx = parts.indexOf('pv');
      if (scoreIdx < 0 || moveIdx < 0) continue;
      const k = pvIdx >= 0 ? Number(parts[pvIdx + 1]) : 1;
      const kind = parts[scoreIdx + 1];
      const v = Number(parts[scoreIdx + 2]);
      const scoreCp = kind === 'mate' ? (v > 0 ? 100_000 - 100 * v : -100_000 - 100 * v) : v;
      byPv.set(k, { uci: parts[moveIdx + 1], scoreCp }); // later (deeper) lines overwrite
    }
    return [...byPv.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  }

  async quit(): Promise<void> {
    if (this.exited) return;
    try {
      this.send('quit');
    } catch {
      /* already gone */
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.child.kill();
        resolve();
      }, 2000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

export interface StockfishGameOptions {
  count?: number;
  seed?: number;
  /** Search depth per move (default 3). */
  depth?: number;
  /** Candidates per move (default 5). */
  multiPv?: number;
  /** Softmax temperature in centipawns (default 50; 0 = best move). */
  temperatureCp?: number;
  /** Uniformly random legal half-moves before the engine takes over (default 4). */
  randomOpeningPlies?: number;
  /** Cut games at this many half-moves (default 300). */
  maxPlies?: number;
  /** Engine script (default: the npm package's lite single-threaded build). */
  script?: string;
}

export function stockfishGameSource(opts: StockfishGameOptions = {}): string {
  return `Stockfish 19 lite (npm stockfish 19.0.0) self-play: depth ${opts.depth ?? 3}, MultiPV ${opts.multiPv ?? 5}, softmax temperature ${opts.temperatureCp ?? 50} cp, ${opts.randomOpeningPlies ?? 4} random opening plies, seed ${opts.seed ?? 0}; engine games, not human games`;
}

/** Standard UCI of a chessops move (castling as king two squares, which UCI engines expect). */
export function standardUci(pos: Position, move: NormalMove): string {
  let to = move.to;
  if (pos.board.king.has(move.from) && pos.board[pos.turn].has(move.to)) to = kingCastlesTo(pos.turn, move.to > move.from ? 'h' : 'a');
  return makeSquare(move.from) + makeSquare(to) + (move.promotion ? roleToChar(move.promotion) : '');
}

/** Pick a candidate: softmax over scores / temperature (seeded). */
export function pickCandidate(cands: readonly UciCandidate[], temperatureCp: number, rng: Rng): UciCandidate {
  if (cands.length === 1 || temperatureCp <= 0) return cands[0];
  const best = Math.max(...cands.map((c) => c.scoreCp));
  const w = cands.map((c) => Math.exp((c.scoreCp - best) / temperatureCp));
  const total = w.reduce((a, b) => a + b, 0);
  let r = rng.next() * total;
  for (let i = 0; i < cands.length; i++) {
    r -= w[i];
    if (r <= 0) return cands[i];
  }
  return cands[cands.length - 1];
}

/** Stream of Stockfish self-play games in the paper's transcript format. */
export async function* stockfishChessGames(opts: StockfishGameOptions = {}): AsyncGenerator<GeneratedChessGame> {
  const depth = opts.depth ?? 3;
  const multiPv = opts.multiPv ?? 5;
  const temperature = opts.temperatureCp ?? 50;
  const openingPlies = opts.randomOpeningPlies ?? 4;
  const maxPlies = opts.maxPlies ?? 300;
  const count = opts.count ?? Infinity;
  if (!(depth >= 1 && depth <= 30)) throw new UserInputError(`stockfish depth must be 1..30, got ${depth}`);
  if (!(multiPv >= 1 && multiPv <= 50)) throw new UserInputError(`stockfish multiPv must be 1..50, got ${multiPv}`);
  const rng = seededRng(opts.seed ?? 0);
  const source = stockfishGameSource(opts);
  const engine = await UciEngine.start({ script: opts.script });
  try {
    for (let g = 0; g < count; g++) {
      engine.send('ucinewgame');
      await engine.ready();
      let pos = ChessPosition.initial();
      const sanPos = Chess.default();
      const sans: string[] = [];
      const ucis: string[] = [];
      const seen = new Map<string, number>([[pos.repetitionKey(), 1]]);
      let termination: ChessTermination = 'max_plies';
      let result = '*';
      while (sans.length < maxPlies) {
        const legal = pos.legalMoves().moves;
        if (legal.length === 0) {
          termination = pos.pos.isCheck() ? 'checkmate' : 'stalemate';
          result = termination === 'checkmate' ? (pos.turn === 'white' ? '0-1' : '1-0') : '1/2-1/2';
          break;
        }
        if (pos.pos.isInsufficientMaterial() || pos.pos.halfmoves >= 100) {
          termination = pos.pos.halfmoves >= 100 ? 'fifty_moves' : 'insufficient_material';
          result = '1/2-1/2';
          break;
        }
        let move: NormalMove;
        if (sans.length < openingPlies) {
          move = legal[rng.int(legal.length)];
        } else {
          const cands = await engine.candidates(ucis, depth, Math.min(multiPv, legal.length));
          if (cands.length === 0) throw new SaeboardError('UNAVAILABLE', `Stockfish gave no move in a position with ${legal.length} legal moves`);
          const pick = pickCandidate(cands, temperature, rng);
          const parsed = parseUci(pick.uci);
          if (!parsed || !('from' in parsed) || !pos.pos.isLegal(parsed)) {
            throw new SaeboardError('INTERNAL', `Stockfish proposed an illegal move ${pick.uci} in ${pos.fen()}`);
          }
          move = normalizeMove(pos.pos, parsed) as NormalMove;
        }
        ucis.push(standardUci(pos.pos, move));
        sans.push(makeSanAndPlay(sanPos, move));
        pos = pos.play(move);
        const key = pos.repetitionKey();
        const n = (seen.get(key) ?? 0) + 1;
        seen.set(key, n);
        if (n >= 3) {
          termination = 'threefold_repetition';
          result = '1/2-1/2';
          break;
        }
      }
      yield { transcript: formatTranscript(sans), plies: sans.length, termination, result, source };
    }
  } finally {
    await engine.quit();
  }
}
