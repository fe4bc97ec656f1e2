#!/usr/bin/env node
// Entry point for `saeboard` / `npx saeboard`: runs the compiled CLI from dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('saeboard: error: not built yet; run `npm run build` (npm install does this) first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
await main();
