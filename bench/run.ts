import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchUsage, createBench } from './harness.js';
import { PROJECT_ROOT } from '../src/version.js';

const [name, ...args] = process.argv.slice(2);
const dir = path.join(PROJECT_ROOT, 'bench');
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !['harness.ts', 'run.ts'].includes(f))
  .map((f) => f.replace(/\.ts$/, ''));

if (!name || name === '--help' || name === '-h') {
  process.stdout.write(`usage: npm run bench -- <name> [options]\n\nbenchmarks: ${available.join(', ')}\n`);
  process.exit(name ? 0 : 2);
}
const file = path.join(dir, `${name}.ts`);
if (!existsSync(file)) {
  process.stderr.write(`bench: unknown benchmark "${name}" (available: ${available.join(', ')})\n`);
  process.exit(2);
}
// `npm run bench -- <name> --help` prints what the bench measures and its options (the file's doc
// comment) instead of running it: a run takes minutes and appends to results.jsonl.
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(benchUsage(readFileSync(file, 'utf8')) ?? `usage: npm run bench -- ${name}\n`);
  process.exit(0);
}
// The API benches measure the server as `saeboard serve` runs it (bin/saeboard.js): set before
// graphql-js loads, which picks its instanceof checks then.
if (name.startsWith('api') && !process.env.NODE_ENV) process.env.NODE_ENV = 'production';
const mod = (await import(pathToFileURL(file).href)) as { default: (h: ReturnType<typeof createBench>) => Promise<void> };
try {
  await mod.default(createBench(name, args));
} catch (err) {
  process.stderr.write(`bench ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
