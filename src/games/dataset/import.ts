/**
 * Importing game files into a dataset, one description for `saeboard games import-*` and the
 * `IMPORT` job: which file, which format, which filters. Chess comes as the paper's transcripts
 * (`;1.e4 e5 2.Nf3 ...`, one game a line, a cut last move accepted and counted) or PGN; Othello as
 * transcripts (square names or numbers, one game a line).
 */
import { z } from 'zod';
import { UserInputError } from '../../errors.js';
import { adapterFor, type GameAdapter } from './adapters.js';
import { chessTranscriptSource, othelloTranscriptSource, pgnSource } from './sources.js';
import type { DatasetSource } from './writer.js';

/** The fields of an import (the IMPORT job adds its output's); check with `checkImportSpec`. */
export const importSpecFields = z.object({
  /** transcripts: one game a line (chess in the paper's format, Othello moves); pgn: chess PGN. */
  format: z.enum(['transcripts', 'pgn']).default('transcripts'),
  game: z.enum(['othello', 'chess']),
  file: z.string().min(1, 'the file to import'),
  /** Skip games with illegal or unparseable moves (counted), instead of failing on the first. */
  skipBad: z.boolean().default(false),
  /** Chess: stop after this many imported games. */
  maxGames: z.number().int().min(1).optional(),
  /** Chess: characters stored per game (longer transcripts are cut). */
  maxChars: z.number().int().min(1).max(65535).default(1024),
  /** Chess: drop games with fewer complete half-moves. */
  minPlies: z.number().int().min(0).optional(),
  /** Othello: how bare numbers are read (token ids 1..60, or square indices 0..63). */
  numbering: z.enum(['token', 'square']).optional(),
  /** Othello: keep only games with at least this many moves. */
  minMoves: z.number().int().min(0).max(60).optional(),
  /** Othello: drop games that repeat an earlier one. */
  dedupe: z.boolean().optional(),
});

/** Cross-field rules: pgn is chess; game-specific options only for their game. */
export function checkImportSpec(s: z.output<typeof importSpecFields>, ctx: z.RefinementCtx): void {
  if (s.format === 'pgn' && s.game !== 'chess') ctx.addIssue({ code: 'custom', path: ['format'], message: 'pgn holds chess games: set game: chess, or format: transcripts' });
  const only = (keys: (keyof typeof s)[], game: 'othello' | 'chess') => {
    for (const k of keys) if (s.game !== game && s[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `applies to ${game} only, not ${s.game}` });
  };
  only(['maxGames', 'minPlies'], 'chess');
  only(['numbering', 'minMoves', 'dedupe'], 'othello');
}

export const importSpecSchema = importSpecFields.strict().superRefine(checkImportSpec);
export type ImportSpec = z.output<typeof importSpecSchema>;

/** Parse an import description; a UserInputError with one line per bad field. */
export function parseImportSpec(raw: unknown): ImportSpec {
  const r = importSpecSchema.safeParse(raw);
  if (!r.success) throw new UserInputError(r.error.issues.map((i) => `${i.path.join('.') || '(import)'}: ${i.message}`).join('; '));
  return r.data;
}

export interface ImportPlan {
  adapter: GameAdapter;
  source: DatasetSource;
  /** Token columns per stored game (chess: maxChars). */
  tokensPerGame?: number;
}

/** The adapter and streaming source of an import; the file is checked, not yet read. */
export async function importPlan(spec: ImportSpec): Promise<ImportPlan> {
  if (spec.game === 'othello') {
    const source = await othelloTranscriptSource(spec.file, { skipBad: spec.skipBad, numbering: spec.numbering, minMoves: spec.minMoves, dedupe: spec.dedupe });
    return { adapter: adapterFor('othello'), source };
  }
  if (spec.format !== 'pgn' && spec.format !== 'transcripts') throw new UserInputError(`unknown import format ${JSON.stringify(spec.format)}`);
  const source =
    spec.format === 'pgn'
      ? await pgnSource(spec.file, { skipBad: spec.skipBad, minPlies: spec.minPlies ?? 1, maxGames: spec.maxGames })
      : await chessTranscriptSource(spec.file, { skipBad: spec.skipBad, maxGames: spec.maxGames, minPlies: spec.minPlies });
  return { adapter: adapterFor('chess', { tokensPerGame: spec.maxChars }), source, tokensPerGame: spec.maxChars };
}

/** What an import skipped and cut, from its source's counters: lines for the user. */
export function importNotes(source: DatasetSource): string[] {
  const notes: string[] = [];
  const stats = source.stats?.() as Record<string, number> | undefined;
  if (stats?.truncated) notes.push(`${stats.truncated} game(s) end in a cut-off move (kept: the paper's datasets cut every line at a fixed length)`);
  const errors = (source.details.errors as string[] | undefined) ?? [];
  if (errors.length) notes.push(`skipped ${errors.length}${errors.length === 100 ? '+' : ''} bad game(s); first: ${errors[0]}`);
  return notes;
}
