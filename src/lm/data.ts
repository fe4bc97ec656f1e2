/**
 * Token sequences as the LM consumes them: a fixed number of rows of a fixed length, read in
 * slices, so that training, activation collection and probes never need a whole dataset in memory.
 * Adapters turn game datasets (src/games/dataset*) and in-memory arrays into this shape.
 */
import { UserInputError } from '../errors.js';
import type { GameName } from '../games/types.js';
import type { GptConfig } from './config.js';
import { tokenizerInfo } from './tokenizers.js';

export interface TokenSequences {
  game: GameName;
  /** Tokenizer id (tokenizers.ts); must equal the model's. */
  tokenizer: string;
  /** Number of rows. */
  count: number;
  /** Tokens per row. */
  length: number;
  /** Human-readable origin for error messages (a path, "in-memory", ...). */
  source: string;
  /** Rows start..start+n as one row-major [n, length] array. */
  read(start: number, n: number): Promise<Int32Array>;
}

export function inMemorySequences(opts: {
  game: GameName;
  tokenizer: string;
  tokens: Int32Array;
  length: number;
  source?: string;
}): TokenSequences {
  const { tokens, length } = opts;
  if (tokens.length % length !== 0) throw new UserInputError(`token array of ${tokens.length} is not a multiple of row length ${length}`);
  const info = tokenizerInfo(opts.tokenizer);
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] < 0 || tokens[i] >= info.vocabSize) {
      throw new UserInputError(`${opts.source ?? 'tokens'}: token ${tokens[i]} at index ${i} is outside the ${info.id} vocabulary`);
    }
  }
  return {
    game: opts.game,
    tokenizer: opts.tokenizer,
    count: tokens.length / length,
    length,
    source: opts.source ?? 'in-memory',
    read: async (start, n) => tokens.subarray(start * length, (start + n) * length),
  };
}

/** A view of rows [start, start+count) of another source. */
export function sliceSequences(src: TokenSequences, start: number, count: number): TokenSequences {
  if (start < 0 || start + count > src.count) throw new UserInputError(`rows ${start}..${start + count} are outside ${src.source} (${src.count} rows)`);
  return { ...src, count, read: (s, n) => src.read(start + s, n) };
}

/** Tokens truncated (or checked) to `length` per row. */
export function truncateSequences(src: TokenSequences, length: number): TokenSequences {
  if (length > src.length) throw new UserInputError(`${src.source}: rows have ${src.length} tokens, fewer than the ${length} requested`);
  if (length === src.length) return src;
  return {
    ...src,
    length,
    read: async (s, n) => {
      const full = await src.read(s, n);
      const out = new Int32Array(n * length);
      for (let i = 0; i < n; i++) out.set(full.subarray(i * src.length, i * src.length + length), i * length);
      return out;
    },
  };
}

/**
 * The model/data tokenizer check: the dataset must use the tokenizer the model was trained with.
 * `modelTokenizer` comes from the checkpoint's config.json.
 */
export function checkTokenizerMatch(config: GptConfig, modelTokenizer: string, data: TokenSequences): void {
  if (modelTokenizer !== data.tokenizer) {
    throw new UserInputError(
      `tokenizer mismatch: the model uses "${modelTokenizer}" but dataset ${data.source} uses "${data.tokenizer}"`,
    );
  }
  const info = tokenizerInfo(data.tokenizer);
  if (info.vocabSize !== config.vocabSize) {
    throw new UserInputError(`tokenizer "${info.id}" has ${info.vocabSize} tokens but the model's vocabSize is ${config.vocabSize}`);
  }
}
