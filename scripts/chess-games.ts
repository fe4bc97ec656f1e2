/**
 * Manual tool for the chess ground truth (the real CLI is `saeboard games ...`):
 *
 *   npx tsx scripts/chess-games.ts random --count 100 --seed 1 --out random.txt
 *   npx tsx scripts/chess-games.ts stockfish --count 10 --depth 3 --out sf.txt
 *   npx tsx scripts/chess-games.ts import-pgn lichess.pgn --skip-bad --out lichess.txt
 *   npx tsx scripts/chess-games.ts label random.txt [--families check,fork,pin]
 *
 * Game files hold one paper-format transcript per line (`;1.e4 e5 ...`).
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { action, intOption } from '../src/cli/action.js';
import { UserInputError } from '../src/errors.js';
import {
  chessBspFamilies,
  chessFamily,
  importPgn,
  isEvaluableChessGame,
  labelChessDots,
  randomChessGames,
  stockfishChessGames,
} from '../src/games/chess/index.js';
import { progress } from '../src/progress.js';

async function writeLines(out: string | undefined, lines: AsyncIterable<string>, total: number, label: string): Promise<number> {
  const sink = out ? createWriteStream(out) : process.stdout;
  const bar = progress({ label, total, unit: 'games', enabled: Boolean(out) && Boolean(process.stderr.isTTY) });
  let n = 0;
  for await (const line of lines) {
    sink.write(line + '\n');
    n++;
    bar.tick();
  }
  bar.stop();
  if (out) await new Promise<void>((resolve, reject) => (sink as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? reject(err) : resolve())));
  return n;
}

const program = new Command('chess-games').description('Generate, import and label chess transcripts (one per line)');

program
  .command('random')
  .description('uniformly random legal games (synthetic, not human)')
  .option('--count <n>', 'number of games', intOption('count', 1), 100)
  .option('--seed <n>', 'RNG seed', intOption('seed'), 0)
  .option('--max-plies <n>', 'cut games at this many half-moves', intOption('max-plies', 1), 400)
  .option('--out <file>', 'output file (default stdout)')
  .action(action(async (o: { count: number; seed: number; maxPlies: number; out?: string }) => {
    async function* lines() {
      for await (const g of randomChessGames({ count: o.count, seed: o.seed, maxPlies: o.maxPlies })) yield g.transcript;
    }
    await writeLines(o.out, lines(), o.count, 'random games');
  }));

program
  .command('stockfish')
  .description('Stockfish 19 lite self-play games (engine games, not human)')
  .option('--count <n>', 'number of games', intOption('count', 1), 10)
  .option('--seed <n>', 'RNG seed', intOption('seed'), 0)
  .option('--depth <n>', 'search depth per move', intOption('depth', 1, 30), 3)
  .option('--multipv <n>', 'candidates per move', intOption('multipv', 1, 50), 5)
  .option('--temperature <cp>', 'softmax temperature in centipawns (0 = best move)', intOption('temperature'), 50)
  .option('--opening-plies <n>', 'random half-moves before the engine plays', intOption('opening-plies'), 4)
  .option('--max-plies <n>', 'cut games at this many half-moves', intOption('max-plies', 1), 300)
  .option('--out <file>', 'output file (default stdout)')
  .action(action(async (o: { count: number; seed: number; depth: number; multipv: number; temperature: number; openingPlies: number; maxPlies: number; out?: string }) => {
    async function* lines() {
      for await (const g of stockfishChessGames({
        count: o.count, seed: o.seed, depth: o.depth, multiPv: o.multipv, temperatureCp: o.temperature,
        randomOpeningPlies: o.openingPlies, maxPlies: o.maxPlies,
      })) yield g.transcript;
    }
    await writeLines(o.out, lines(), o.count, 'stockfish games');
  }));

program
  .command('import-pgn <file>')
  .description('stream a PGN file (Lichess export) into transcripts')
  .option('--skip-bad', 'skip malformed games and report how many', false)
  .option('--max-games <n>', 'stop after this many games', intOption('max-games', 1))
  .option('--out <file>', 'output file (default stdout)')
  .action(action(async (file: string, o: { skipBad: boolean; maxGames?: number; out?: string }) => {
    const { games, stats } = importPgn(file, { skipBad: o.skipBad, maxGames: o.maxGames });
    async function* lines() {
      for await (const g of games) yield g.transcript;
    }
    await writeLines(o.out, lines(), o.maxGames ?? 0, 'pgn games');
    process.stderr.write(`imported ${stats.imported}, skipped ${stats.skipped} bad, ${stats.tooShort} without moves, ${(stats.bytes / 1e6).toFixed(1)} MB\n`);
    for (const e of stats.errors.slice(0, 5)) process.stderr.write(`  ${e.message}\n`);
  }));

program
  .command('label <file>')
  .description('label the first 20 dots of each evaluable game and print the positive rate per family')
  .option('--families <names>', 'comma-separated family names (default: all)')
  .action(action(async (file: string, o: { families?: string }) => {
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
    const games = lines.filter((l) => isEvaluableChessGame(l));
    if (games.length === 0) throw new UserInputError(`${file}: no game has ≥ 256 characters with ≥ 20 dots in them`);
    const families = o.families ? o.families.split(',').map((n) => chessFamily(n.trim())) : chessBspFamilies;
    const t0 = performance.now();
    const r = labelChessDots(games, { families });
    const s = (performance.now() - t0) / 1000;
    process.stdout.write(`${games.length}/${lines.length} games evaluable, ${r.positions} dot positions labelled in ${s.toFixed(2)} s\n`);
    for (const { family, labels } of r.labels) {
      let on = 0;
      for (const v of labels) on += v;
      process.stdout.write(`${family.shortName.padEnd(28)} ${String(family.cells).padStart(4)} cells  mean true cells/position ${(on / r.positions).toFixed(3)}\n`);
    }
  }));

await program.parseAsync(process.argv);
