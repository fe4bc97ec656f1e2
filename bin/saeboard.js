#!/usr/bin/env node
// Entry point for `saeboard` / `npx saeboard`: runs the compiled CLI from dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('saeboard: error: not built yet; run `npm run build` (npm install does this) first\n');
  process.exit(1);
}
// The server runs as production unless told otherwise: graphql-js checks every instanceof for a
// second copy of itself when not (~10 % of the server's CPU per request, bench/api-scale's mix).
// Set before anything loads graphql, which reads it once.
if (process.argv[2] === 'serve' && !process.env.NODE_ENV) process.env.NODE_ENV = 'production';
const { main } = await import(entry.href);
await main();
