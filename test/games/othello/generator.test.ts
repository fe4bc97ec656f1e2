import { describe, expect, it } from 'vitest';
import { FingerprintSet, RandomOthelloGames, fingerprint, replayOthello } from '../../../src/games/othello/index.js';

function take(gen: RandomOthelloGames, n: number): number[][] {
  const buf = new Uint8Array(60);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const len = gen.next(buf);
    out.push(Array.from(buf.subarray(0, len)));
  }
  return out;
}

describe('random Othello games', () => {
  it('are reproducible from the seed and differ between seeds', () => {
    const a = take(new RandomOthelloGames({ seed: 7 }), 50);
    const b = take(new RandomOthelloGames({ seed: 7 }), 50);
    const c = take(new RandomOthelloGames({ seed: 8 }), 50);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('are legal to the end under strict replay, including their passes', () => {
    const gen = new RandomOthelloGames({ seed: 1 });
    const games = take(gen, 400);
    let passes = 0;
    for (const [i, g] of games.entries()) {
      const r = replayOthello(g, `game ${i}`);
      expect(r.finished).toBe(true);
      expect(r.blackDiscs + r.whiteDiscs).toBe(4 + g.length);
      passes += r.passes > 0 ? 1 : 0;
    }
    expect(passes).toBe(gen.stats.keptWithPass);
    expect(passes).toBeGreaterThan(0); // a few percent of random games have a pass
  });

  it('applies the minimum-length filter and counts what it dropped', () => {
    const gen = new RandomOthelloGames({ seed: 3, minMoves: 60 });
    const games = take(gen, 200);
    expect(games.every((g) => g.length === 60)).toBe(true);
    expect(gen.stats.kept).toBe(200);
    expect(gen.stats.played).toBe(gen.stats.kept + gen.stats.tooShort + gen.stats.duplicates);
    expect(gen.stats.tooShort).toBeGreaterThan(0);
  });

  it('de-duplicates: a second generator sharing the seen-set skips every game the first produced', () => {
    const seen = new FingerprintSet();
    const first = take(new RandomOthelloGames({ seed: 11, seen }), 30);
    const again = new RandomOthelloGames({ seed: 11, seen });
    const next = take(again, 5);
    expect(again.stats.duplicates).toBe(30);
    expect(next).toEqual(take(new RandomOthelloGames({ seed: 11 }), 35).slice(30));
    const keys = new Set([...first, ...next].map((g) => g.join(',')));
    expect(keys.size).toBe(35);
  });

  it('fingerprints depend on order and length', () => {
    expect(fingerprint([1, 2, 3], 3)).not.toBe(fingerprint([2, 1, 3], 3));
    expect(fingerprint([1, 2, 3], 3)).not.toBe(fingerprint([1, 2, 3, 0], 4));
    expect(fingerprint([1, 2, 3], 3)).toBe(fingerprint(Uint8Array.from([1, 2, 3]), 3));
    expect(Number.isSafeInteger(fingerprint([60, 59, 58], 3))).toBe(true);
  });
});
