#!/usr/bin/env node
// Build the web dashboard (web/, Vite + React) into dist/web/, which the server serves at `/`.
// Part of `npm run build`. Without the dev dependencies (vite), it says so and leaves the
// dashboard out; the API and GraphiQL work either way.
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outDir = path.join(root, 'dist', 'web');
const tmpDir = `${outDir}.tmp-${process.pid}`;

let vite;
try {
  vite = await import('vite');
} catch {
  process.stderr.write('saeboard: web dashboard not built (vite is not installed; `npm ci` installs it)\n');
  process.exit(0);
}

const t0 = performance.now();
rmSync(tmpDir, { recursive: true, force: true });
await vite.build({
  configFile: path.join(root, 'web', 'vite.config.ts'),
  logLevel: 'warn',
  build: { outDir: tmpDir, emptyOutDir: true },
});
if (!existsSync(path.join(tmpDir, 'index.html'))) throw new Error('vite build wrote no index.html');
// Replace the previous build in one step, so a running server never sees half of one.
rmSync(outDir, { recursive: true, force: true });
renameSync(tmpDir, outDir);
process.stderr.write(`saeboard: web dashboard built into ${path.relative(root, outDir)} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
