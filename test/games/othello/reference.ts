/** The fixture made by scripts/othello_reference.py (a Python mailbox implementation of the spec). */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface RefGame {
  squares: number[];
  tokens: number[];
  colors: number[];
  blackDiscs: number[];
  whiteDiscs: number[];
  passes: number;
  validMoves: number[][];
  families: Record<string, { sha256: string; rowSums: number[] }>;
}

export const reference = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', 'reference.json'), 'utf8')) as {
  games: RefGame[];
};
