import { describe, expect, it } from 'vitest';
import {
  parseTranscript,
  pickCandidate,
  randomChessGames,
  randomChessGamesSync,
  replayTranscript,
  seededRng,
  standardUci,
  stockfishChessGames,
  type GeneratedChessGame,
} from '../../../src/games/chess/index.js';
import { ChessPosition } from '../../../src/games/chess/index.js';

describe('uniformly random legal games', () => {
  it('are reproducible from the seed, legal, canonical and say where they came from', async () => {
    const a = [...randomChessGamesSync({ count: 20, seed: 42 })];
    const b: GeneratedChessGame[] = [];
    for await (const g of randomChessGames({ count: 20, seed: 42 })) b.push(g);
    expect(b.map((g) => g.transcript)).toEqual(a.map((g) => g.transcript));
    const c = [...randomChessGamesSync({ count: 20, seed: 43 })];
    expect(c.map((g) => g.transcript)).not.toEqual(a.map((g) => g.transcript));
    for (const g of a) {
      const p = parseTranscript(g.transcript);
      expect(p.canonical).toBe(g.transcript);
      expect(p.sans.length).toBe(g.plies);
      expect(g.source).toMatch(/random.*not human/);
      const last = replayTranscript(g.transcript).states.at(-1)!;
      if (g.termination === 'checkmate') {
        expect(g.transcript.endsWith('#')).toBe(true);
        expect(last.pos.isCheckmate()).toBe(true);
      } else if (g.termination === 'stalemate') {
        expect(last.pos.isStalemate()).toBe(true);
      } else if (g.termination === 'insufficient_material') {
        expect(last.pos.isInsufficientMaterial()).toBe(true);
      } else if (g.termination === 'max_plies') {
        expect(g.plies).toBe(400);
      }
    }
  });

  it('respects maxPlies and minChars', () => {
    const games = [...randomChessGamesSync({ count: 5, seed: 1, maxPlies: 10 })];
    expect(games.every((g) => g.plies <= 10)).toBe(true);
    const long = [...randomChessGamesSync({ count: 5, seed: 1, minChars: 256 })];
    expect(long.every((g) => g.transcript.length >= 256)).toBe(true);
  });
});

describe('Stockfish self-play', () => {
  it('writes castling in standard UCI and samples candidates by softmax', () => {
    const p = ChessPosition.fromFen('4k3/8/8/8/8/8/8/4K2R w K - 0 1');
    expect(standardUci(p.pos, { from: 4, to: 7 })).toBe('e1g1');
    expect(standardUci(p.pos, { from: 7, to: 15 })).toBe('h1h2');
    const cands = [{ uci: 'a', scoreCp: 100 }, { uci: 'b', scoreCp: 0 }];
    expect(pickCandidate(cands, 0, seededRng(1)).uci).toBe('a');
    const rng = seededRng(3);
    let a = 0;
    for (let i = 0; i < 2000; i++) if (pickCandidate(cands, 100, rng).uci === 'a') a++;
    // P(a) = e^1 / (e^1 + 1) ≈ 0.731
    expect(a / 2000).toBeGreaterThan(0.69);
    expect(a / 2000).toBeLessThan(0.77);
  });

  it('plays legal, reproducible engine games through the real WASM engine', async () => {
    const run = async () => {
      const out: GeneratedChessGame[] = [];
      for await (const g of stockfishChessGames({ count: 2, seed: 5, depth: 2, maxPlies: 24 })) out.push(g);
      return out;
    };
    const first = await run();
    const second = await run();
    expect(first.map((g) => g.transcript)).toEqual(second.map((g) => g.transcript));
    expect(first[0].transcript).not.toBe(first[1].transcript);
    for (const g of first) {
      expect(parseTranscript(g.transcript).canonical).toBe(g.transcript);
      expect(g.source).toMatch(/Stockfish.*engine games, not human games/);
    }
  }, 60_000);

  it('rejects a bad engine path with a clear error', async () => {
    await expect(stockfishChessGames({ count: 1, script: '/nonexistent/sf.js' }).next()).rejects.toThrow(/Stockfish script not found/);
  });
});
