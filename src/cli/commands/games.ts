/**
 * `saeboard games ...`: make, import, inspect and register game datasets; list BSP families.
 */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { UserInputError } from '../../errors.js';
import { formatNumber } from '../../progress.js';
import {
  adapterFor,
  chessRandomSource,
  openDataset,
  importPlan,
  othelloRandomSource,
  parseImportSpec,
  resolveFamilies,
  stockfishSource,
  writeDataset,
  type DatasetManifest,
  type DatasetSource,
  type GameAdapter,
} from '../../games/dataset/index.js';
import { bspFamilies, isReported, parseGameName } from '../../games/index.js';
import { OthelloBoard, perft } from '../../games/othello/index.js';
import { GAMES, type GameName } from '../../games/types.js';
import { action, intOption } from '../action.js';
import { exitInterrupted, onInterrupt } from '../signals.js';

function fractionOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`--${name} must be a number in [0, 1], got "${value}"`);
    return n;
  };
}

function numberOption(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`--${name} must be a number ≥ ${min}, got "${value}"`);
    return n;
  };
}

const BSP_HELP =
  'BSP families to label: default (the paper\'s pipeline set), reported, all, none, or a comma-separated list of short names (see `saeboard games families`)';
const REGISTER_HELP = 'register the dataset and the BSP catalogue in the database (default: only when DATABASE_URL is set)';

interface CommonWriteOptions {
  out: string;
  name?: string;
  testFraction: number;
  bsp: string;
  shardGames?: number;
  force?: boolean;
  register?: boolean;
  progress?: boolean;
}

function addCommonWriteOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-o, --out <dir>', 'output dataset directory (written atomically: temp dir, then rename)')
    .option('--name <name>', 'dataset name (default: the output directory name)')
    .option('--test-fraction <f>', 'fraction of games (the last ones) in the test split', fractionOption('test-fraction'), 0.2)
    .option('--bsp <families>', BSP_HELP, 'default')
    .option('--shard-games <n>', 'games per shard (default: sized for ~64 MiB of labels per shard)', intOption('shard-games', 1))
    .option('-f, --force', 'overwrite an existing output directory')
    .option('--register', REGISTER_HELP)
    .option('--no-register', 'never touch the database, even with DATABASE_URL set')
    .option('--no-progress', 'no progress bar (plain progress lines are printed when stderr is not a terminal)');
}

/** Ctrl-C/SIGTERM during a write: the temp build directory is removed (src/cli/signals.ts); say so. */
function reportInterrupt(out: string): () => void {
  return onInterrupt((signal) => exitInterrupted(signal, `nothing was written to ${out}`));
}

async function writeAndReport(adapter: GameAdapter, source: DatasetSource, opts: CommonWriteOptions, tokensPerGame?: number): Promise<void> {
  const families = resolveFamilies(adapter, opts.bsp);
  const t0 = performance.now();
  const release = reportInterrupt(opts.out);
  const manifest = await writeDataset({
    out: opts.out,
    adapter,
    families,
    source,
    name: opts.name,
    testFraction: opts.testFraction,
    shardGames: opts.shardGames,
    tokensPerGame,
    overwrite: opts.force,
    showProgress: opts.progress === false ? false : undefined,
  }).finally(release);
  const seconds = (performance.now() - t0) / 1000;
  const bytes = manifest.shards.reduce((a, s) => a + s.bytes, 0);
  process.stdout.write(
    `wrote ${path.resolve(opts.out)}: ${manifest.game}, ${manifest.counts.games} games ` +
      `(train ${manifest.splits.train.end - manifest.splits.train.start} / test ${manifest.splits.test.end - manifest.splits.test.start}), ` +
      `${manifest.counts.positions} labelled positions, families [${manifest.families.map((f) => f.shortName).join(', ')}], ` +
      `${manifest.shards.length} shard(s), ${formatBytes(bytes)} in ${seconds.toFixed(1)} s ` +
      `(${formatNumber(Math.round(manifest.counts.games / seconds))} games/s)\n`,
  );
  await maybeRegister(opts.out, manifest, opts.register);
}

async function maybeRegister(dir: string, manifest: DatasetManifest, flag: boolean | undefined): Promise<void> {
  const wanted = flag ?? Boolean(process.env.DATABASE_URL);
  if (!wanted) return;
  // Loaded lazily: making a dataset must not need the database modules (or a running server).
  const { openDatabase } = await import('../../db/pool.js');
  const { registerDatasetDir } = await import('../../jobs/datasets.js');
  const db = await openDatabase();
  try {
    const r = await registerDatasetDir(db.pool, dir, { verify: false, name: manifest.name });
    process.stdout.write(
      `${r.created ? 'registered' : 'already registered:'} dataset #${r.dataset.id} ${JSON.stringify(r.dataset.name)} ` +
        `(BSP catalogue: ${r.catalogue.families} families, ${r.catalogue.properties} properties)\n`,
    );
  } finally {
    await db.close();
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

function onlyFor(cmd: Command, game: GameName, names: [string, string][], forGame: GameName): void {
  if (game === forGame) return;
  for (const [key, flag] of names) {
    if (cmd.getOptionValueSource(key) === 'cli') throw new UserInputError(`${flag} applies to ${forGame} only, not ${game}`);
  }
}

export function register(program: Command): void {
  const games = program
    .command('games')
    .description('Game datasets and board state properties: generate, import, inspect, register')
    .addHelpText(
      'after',
      `
Examples:
  saeboard games generate othello --games 10000 --seed 1 --min-moves 59 --out data/othello-eval
  saeboard games generate chess --source random --games 1000 --out data/chess-random
  saeboard games import-pgn lichess.pgn --out data/lichess --skip-bad
  saeboard games info data/othello-eval --verify
  saeboard games families othello`,
    );

  const generate = games
    .command('generate')
    .argument('<game>', `game: ${GAMES.join(' | ')}`)
    .description('Generate synthetic games (Othello: uniformly random legal games; chess: random legal moves or Stockfish self-play) and label them')
    .option('-n, --games <n>', 'number of games to keep', intOption('games', 1), 10000)
    .option('-s, --seed <n>', 'random seed (the same seed and code version give the same dataset)', intOption('seed', 0, 2 ** 32 - 1), 0)
    .option('--min-moves <n>', '(othello) keep only games with at least n moves; the paper\'s evaluation sets need 59', intOption('min-moves', 0, 60), 0)
    .option('--no-dedupe', '(othello) keep duplicate games (default: drop repeats of an earlier game)')
    .option('--source <kind>', '(chess) random | stockfish', 'random')
    .option('--max-plies <n>', '(chess) cut games at n half-moves (default 400 random, 300 stockfish)', intOption('max-plies', 1))
    .option('--min-chars <n>', '(chess) keep only games whose transcript has at least n characters (the paper\'s evaluation needs 256)', intOption('min-chars', 0), 0)
    .option('--max-chars <n>', '(chess) characters stored per game (longer transcripts are cut)', intOption('max-chars', 1, 65535), 1024)
    .option('--depth <n>', '(chess, stockfish) search depth per move', intOption('depth', 1, 30), 3)
    .option('--multipv <n>', '(chess, stockfish) candidate moves per position', intOption('multipv', 1, 50), 5)
    .option('--temperature <cp>', '(chess, stockfish) softmax temperature over candidates in centipawns (0 = best move)', numberOption('temperature', 0), 50)
    .option('--opening-plies <n>', '(chess, stockfish) uniformly random half-moves before the engine plays', intOption('opening-plies', 0), 4);
  addCommonWriteOptions(generate).action(
    action(async (gameArg: string, opts: CommonWriteOptions & Record<string, unknown>, cmd: Command) => {
      const game = parseGameName(gameArg);
      onlyFor(cmd, game, [['minMoves', '--min-moves'], ['dedupe', '--no-dedupe']], 'othello');
      onlyFor(
        cmd,
        game,
        [['source', '--source'], ['maxPlies', '--max-plies'], ['minChars', '--min-chars'], ['maxChars', '--max-chars'], ['depth', '--depth'], ['multipv', '--multipv'], ['temperature', '--temperature'], ['openingPlies', '--opening-plies']],
        'chess',
      );
      const n = opts.games as number;
      const seed = opts.seed as number;
      if (game === 'othello') {
        const source = othelloRandomSource({ games: n, seed, minMoves: opts.minMoves as number, dedupe: opts.dedupe as boolean });
        await writeAndReport(adapterFor('othello'), source, opts);
        return;
      }
      const kind = String(opts.source);
      if (kind !== 'random' && kind !== 'stockfish') throw new UserInputError(`--source must be random or stockfish, got ${JSON.stringify(kind)}`);
      const source =
        kind === 'random'
          ? chessRandomSource({ games: n, seed, maxPlies: opts.maxPlies as number | undefined, minChars: opts.minChars as number })
          : stockfishSource({
              games: n,
              seed,
              depth: opts.depth as number,
              multiPv: opts.multipv as number,
              temperatureCp: opts.temperature as number,
              randomOpeningPlies: opts.openingPlies as number,
              maxPlies: opts.maxPlies as number | undefined,
              minChars: opts.minChars as number,
            });
      const maxChars = opts.maxChars as number;
      await writeAndReport(adapterFor('chess', { tokensPerGame: maxChars }), source, opts, maxChars);
    }),
  );

  const importPgnCmd = games
    .command('import-pgn')
    .argument('<file>', 'PGN file (Lichess export style; streamed, any size)')
    .description('Import chess games from a PGN file into a dataset, in the paper\'s transcript format (;1.e4 e5 2.Nf3 ...)')
    .option('--skip-bad', 'skip malformed games (illegal/unparseable SAN, truncated game) and count them, instead of stopping at the first')
    .option('--min-plies <n>', 'drop games with fewer half-moves', intOption('min-plies', 0), 1)
    .option('--max-games <n>', 'stop after n imported games', intOption('max-games', 1))
    .option('--max-chars <n>', 'characters stored per game (longer transcripts are cut)', intOption('max-chars', 1, 65535), 1024);
  addCommonWriteOptions(importPgnCmd).action(
    action(async (file: string, opts: CommonWriteOptions & { skipBad?: boolean; minPlies: number; maxGames?: number; maxChars: number }) => {
      const { adapter, source, tokensPerGame } = await importPlan(
        parseImportSpec({ format: 'pgn', game: 'chess', file, skipBad: Boolean(opts.skipBad), minPlies: opts.minPlies, maxGames: opts.maxGames, maxChars: opts.maxChars }),
      );
      await writeAndReport(adapter, source, opts, tokensPerGame);
      const errors = (source.details.errors as string[] | undefined) ?? [];
      if (errors.length) process.stderr.write(`skipped ${errors.length}${errors.length === 100 ? '+' : ''} bad game(s); first: ${errors[0]}\n`);
    }),
  );

  const importOthelloCmd = games
    .command('import-othello')
    .argument('<file>', 'text file, one game per line: square names ("f5 d6 c3" or "f5d6c3") or numbers')
    .description('Import Othello transcripts into a dataset; every move is checked (strict legality, passes implicit)')
    .option('--numbering <kind>', 'how bare numbers are read: token (ids 1..60, 0 = padding) | square (indices 0..63)', 'token')
    .option('--skip-bad', 'skip games with illegal moves or unknown characters and count them, instead of stopping at the first')
    .option('--min-moves <n>', 'keep only games with at least n moves', intOption('min-moves', 0, 60), 0)
    .option('--dedupe', 'drop games that repeat an earlier game');
  addCommonWriteOptions(importOthelloCmd).action(
    action(async (file: string, opts: CommonWriteOptions & { numbering: string; skipBad?: boolean; minMoves: number; dedupe?: boolean }) => {
      if (opts.numbering !== 'token' && opts.numbering !== 'square') {
        throw new UserInputError(`--numbering must be token or square, got ${JSON.stringify(opts.numbering)}`);
      }
      const { adapter, source } = await importPlan(
        parseImportSpec({ game: 'othello', file, numbering: opts.numbering, skipBad: Boolean(opts.skipBad), minMoves: opts.minMoves, dedupe: Boolean(opts.dedupe) }),
      );
      await writeAndReport(adapter, source, opts);
      const errors = (source.details.errors as string[] | undefined) ?? [];
      if (errors.length) process.stderr.write(`skipped ${errors.length}${errors.length === 100 ? '+' : ''} bad game(s); first: ${errors[0]}\n`);
    }),
  );

  const importTranscriptsCmd = games
    .command('import-transcripts')
    .argument('<file>', "one game a line: chess in the paper's format (;1.e4 e5 2.Nf3 ..., cut at any length), Othello as square names or token ids")
    .description("Import the paper's transcript datasets (chess or Othello) into a dataset; a cut last move is accepted and reported")
    .requiredOption('--game <game>', 'chess or othello')
    .option('--skip-bad', 'skip games with illegal or unparseable moves and count them, instead of stopping at the first')
    .option('--max-games <n>', 'stop after n imported games (chess)', intOption('max-games', 1))
    .option('--max-chars <n>', 'characters stored per chess game', intOption('max-chars', 1, 65535), 1024);
  addCommonWriteOptions(importTranscriptsCmd).action(
    action(async (file: string, opts: CommonWriteOptions & { game: string; skipBad?: boolean; maxGames?: number; maxChars: number }) => {
      if (opts.game !== 'chess' && opts.game !== 'othello') throw new UserInputError(`--game must be chess or othello, got ${JSON.stringify(opts.game)}`);
      const { adapter, source, tokensPerGame } = await importPlan(
        parseImportSpec({ game: opts.game, file, skipBad: Boolean(opts.skipBad), ...(opts.game === 'chess' ? { maxGames: opts.maxGames, maxChars: opts.maxChars } : {}) }),
      );
      await writeAndReport(adapter, source, opts, tokensPerGame);
      const stats = source.stats?.() as Record<string, number> | undefined;
      if (stats?.truncated) process.stdout.write(`${stats.truncated} game(s) end in a cut-off move (kept: the paper's datasets cut every line at a fixed length)\n`);
      const errors = (source.details.errors as string[] | undefined) ?? [];
      if (errors.length) process.stderr.write(`skipped ${errors.length}${errors.length === 100 ? '+' : ''} bad game(s); first: ${errors[0]}\n`);
    }),
  );

  games
    .command('info')
    .argument('<dir>', 'dataset directory')
    .description('Summarise a dataset: provenance, counts, splits, families, shards')
    .option('--verify', 'also check the size and sha256 of every shard')
    .option('--json', 'print the manifest as JSON')
    .action(
      action(async (dir: string, opts: { verify?: boolean; json?: boolean }) => {
        const ds = await openDataset(dir);
        const m = ds.manifest;
        if (opts.json) process.stdout.write(JSON.stringify(m, null, 2) + '\n');
        else process.stdout.write(describeManifest(dir, m));
        if (opts.verify) {
          const t0 = performance.now();
          await ds.verify();
          const bytes = m.shards.reduce((a, s) => a + s.bytes, 0);
          process.stderr.write(`verified ${m.shards.length} shard(s), ${formatBytes(bytes)} (sha256 OK) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
        }
      }),
    );

  games
    .command('families')
    .argument('[game]', `game: ${GAMES.join(' | ')} (default: both)`)
    .description('List the BSP families (the paper\'s "custom functions") with their shapes and coverage denominators')
    .option('--cells', 'also list every cell (one binary property per line)')
    .option('--json', 'print JSON')
    .action(
      action(async (gameArg: string | undefined, opts: { cells?: boolean; json?: boolean }) => {
        const list = gameArg ? [parseGameName(gameArg)] : [...GAMES];
        const out = list.flatMap((g) =>
          bspFamilies(g).map((f) => ({
            game: g,
            shortName: f.shortName,
            name: f.name,
            group: f.group,
            shape: [f.rows, f.cols, f.classes],
            cells: f.cells,
            coverageDenominator: f.coverageDenominator,
            maskIndex: f.maskIndex,
            reported: isReported(f),
            description: f.description ?? null,
            ...(opts.cells ? { cellNames: f.describe().map((c) => c.name) } : {}),
          })),
        );
        if (opts.json) {
          process.stdout.write(JSON.stringify(out, null, 2) + '\n');
          return;
        }
        for (const f of out) {
          process.stdout.write(
            `${f.game.padEnd(8)}${f.shortName.padEnd(26)}${f.shape.join('×').padEnd(9)}${String(f.cells).padStart(5)} cells  ` +
              `denominator ${String(f.coverageDenominator).padStart(4)}  ${(f.reported ? 'reported' : f.group).padEnd(9)} ${f.name}\n`,
          );
          if (f.cellNames) for (const [i, c] of f.cellNames.entries()) process.stdout.write(`    ${String(i).padStart(5)}  ${c}\n`);
        }
      }),
    );

  games
    .command('register')
    .argument('<dir>', 'dataset directory')
    .description('Register a dataset (and its game\'s BSP catalogue) in the database; shards are verified first')
    .option('--name <name>', 'registered name (default: the manifest\'s name)')
    .option('--replace', 'replace a different dataset registered under the same name')
    .option('--no-verify', 'skip the sha256 check of the shards')
    .action(
      action(async (dir: string, opts: { name?: string; replace?: boolean; verify: boolean }) => {
        const { openDatabase } = await import('../../db/pool.js');
        const { registerDatasetDir } = await import('../../jobs/datasets.js');
        const db = await openDatabase();
        try {
          const r = await registerDatasetDir(db.pool, dir, { name: opts.name, replace: opts.replace, verify: opts.verify });
          process.stdout.write(
            `${r.created ? 'registered' : 'up to date:'} dataset #${r.dataset.id} ${JSON.stringify(r.dataset.name)} (${r.dataset.game}, ` +
              `${r.dataset.n_games} games, ${r.dataset.n_positions} positions; BSP catalogue: ${r.catalogue.families} families, ${r.catalogue.properties} properties)\n`,
          );
        } finally {
          await db.close();
        }
      }),
    );

  games
    .command('catalogue')
    .argument('[game]', `game: ${GAMES.join(' | ')} (default: both)`)
    .description('Write the BSP catalogue (one row per family and per binary property) into the database')
    .action(
      action(async (gameArg: string | undefined) => {
        const { openDatabase } = await import('../../db/pool.js');
        const { registerBspCatalogue } = await import('../../jobs/datasets.js');
        const db = await openDatabase();
        try {
          const r = await registerBspCatalogue(db.pool, gameArg ? [parseGameName(gameArg)] : GAMES);
          for (const [g, c] of Object.entries(r)) process.stdout.write(`${g}: ${c.families} families, ${c.properties} board properties\n`);
        } finally {
          await db.close();
        }
      }),
    );

  games
    .command('perft')
    .description('Count Othello move sequences from the start position (engine self-check: 1, 4, 12, 56, 244, 1396, 8200, 55092, ...)')
    .option('-d, --depth <n>', 'maximum depth', intOption('depth', 0, 12), 8)
    .action(
      action(async (opts: { depth: number }) => {
        const b = new OthelloBoard();
        for (let d = 0; d <= opts.depth; d++) {
          const t0 = performance.now();
          const n = perft(b, d);
          const ms = performance.now() - t0;
          process.stdout.write(`perft(${d}) = ${n}  (${ms.toFixed(1)} ms${ms > 1 ? `, ${formatNumber(Math.round(n / (ms / 1000)))} nodes/s` : ''})\n`);
        }
      }),
    );
}

export function describeManifest(dir: string, m: DatasetManifest): string {
  const lines: string[] = [];
  const add = (k: string, v: string) => lines.push(`${k.padEnd(10)}${v}`);
  const bytes = m.shards.reduce((a, s) => a + s.bytes, 0);
  add('dataset', `${m.name}  (${m.format} v${m.formatVersion})`);
  add('path', path.resolve(dir));
  add('game', `${m.game}; tokenizer ${m.tokenizer.id} (${m.tokenizer.vocabSize} tokens${m.tokenizer.padIsToken ? `, pad ${m.tokenizer.padToken}` : ', no pad token: see lengths'}); ${m.tokensPerGame} tokens stored per game, model context ${m.ctxLen}`);
  add('source', `${m.source.kind}${m.seed !== null ? `, seed ${m.seed}` : ''}`);
  for (const [k, v] of Object.entries(m.source.details)) {
    if (k === 'errors' && Array.isArray(v)) {
      if (v.length) add('', `errors: ${v.length} (first: ${String(v[0])})`);
      continue;
    }
    add('', `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  add('created', `${m.createdAt} by saeboard ${m.codeVersion}`);
  add('games', `${m.counts.games} (train [${m.splits.train.start}, ${m.splits.train.end}), test [${m.splits.test.start}, ${m.splits.test.end})), ${m.counts.tokens} tokens`);
  const src = Object.entries(m.counts.source).map(([k, v]) => `${k}=${v}`).join(' ');
  if (src) add('', src);
  add('positions', `${m.counts.positions} labelled: ${m.positions.description}`);
  if (m.families.length === 0) add('families', 'none (tokens only)');
  m.families.forEach((f, i) =>
    add(
      i === 0 ? 'families' : '',
      `${f.shortName.padEnd(26)} ${[f.rows, f.cols, f.classes].join('×').padEnd(8)} ${String(f.cells).padStart(5)} cells, denominator ${String(f.coverageDenominator).padStart(4)}${f.reported ? ', reported' : ''}  (${f.name})`,
    ),
  );
  add('shards', `${m.shards.length} file(s), ${formatBytes(bytes)}`);
  return lines.join('\n') + '\n';
}
