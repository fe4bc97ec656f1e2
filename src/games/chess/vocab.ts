/**
 * ChessGPT's 32-character vocabulary (games.md §2.2, from the paper's `meta.pkl`): the sorted unique
 * characters of the transcript corpus. There is no padding token: evaluated strings are cut to a
 * fixed length instead.
 */
import { UserInputError } from '../../errors.js';

/** Characters in token-id order (id = index). */
export const CHESS_VOCAB: readonly string[] = [
  ' ', '#', '+', '-', '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ';',
  '=', 'B', 'K', 'N', 'O', 'Q', 'R', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'x',
];

export const CHESS_VOCAB_SIZE = 32;

/** Token id of the game delimiter `;` that starts every transcript. */
export const CHESS_DELIMITER_ID = 15;
/** Token id of `.`: labels and activations are taken at dots (games.md §2.5). */
export const CHESS_DOT_ID = 4;
/** Token id of the space that separates half-moves. */
export const CHESS_SPACE_ID = 0;

// char code → id, 255 = not in the vocabulary. A flat table keeps encoding allocation-free.
const CHAR_TO_ID = new Uint8Array(128).fill(255);
CHESS_VOCAB.forEach((ch, id) => {
  CHAR_TO_ID[ch.charCodeAt(0)] = id;
});

export function isChessVocabChar(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return ch.length === 1 && c < 128 && CHAR_TO_ID[c] !== 255;
}

/**
 * Encode a transcript into token ids. Throws a UserInputError naming the first character outside
 * the vocabulary and its index; `where` (e.g. "games.txt line 12") is prefixed to the message.
 */
export function encodeChess(text: string, where?: string, out = new Uint8Array(text.length)): Uint8Array {
  if (out.length < text.length) throw new RangeError(`encodeChess: output holds ${out.length} ids, need ${text.length}`);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const id = c < 128 ? CHAR_TO_ID[c] : 255;
    if (id === 255) {
      const shown = JSON.stringify(text[i]);
      throw new UserInputError(
        `${where ? where + ': ' : ''}character ${shown} at index ${i} is not in the 32-character chess vocabulary`,
        { index: i, char: text[i] },
      );
    }
    out[i] = id;
  }
  return out;
}

/** Decode token ids back to text; ids outside 0..31 are a caller error. */
export function decodeChess(ids: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const ch = CHESS_VOCAB[id];
    if (ch === undefined) throw new UserInputError(`token id ${id} at index ${i} is not a chess token id (0..31)`);
    s += ch;
  }
  return s;
}

/** The paper's `meta.pkl` as plain objects (stoi / itos), for export next to a dataset. */
export function chessMeta(): { vocab_size: number; stoi: Record<string, number>; itos: Record<number, string> } {
  const stoi: Record<string, number> = {};
  const itos: Record<number, string> = {};
  CHESS_VOCAB.forEach((ch, id) => {
    stoi[ch] = id;
    itos[id] = ch;
  });
  return { vocab_size: CHESS_VOCAB_SIZE, stoi, itos };
}
