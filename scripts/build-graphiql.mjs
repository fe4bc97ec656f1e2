#!/usr/bin/env node
// Bundle GraphiQL (React + graphiql + its CSS and fonts) into dist/graphiql/ with esbuild, so the
// server can serve it without any CDN. Part of `npm run build`. Without the dev dependencies
// (graphiql, react, esbuild), it says so and leaves GraphiQL out; the API works either way.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outDir = path.join(root, 'dist', 'graphiql');
const tmpDir = `${outDir}.tmp-${process.pid}`;

let esbuild;
try {
  esbuild = await import('esbuild');
  await import('graphiql/package.json', { with: { type: 'json' } });
} catch {
  process.stderr.write('saeboard: GraphiQL not built (esbuild or graphiql is not installed; `npm ci` installs them)\n');
  process.exit(0);
}

const t0 = performance.now();
rmSync(tmpDir, { recursive: true, force: true });
mkdirSync(tmpDir, { recursive: true });
await esbuild.build({
  entryPoints: { graphiql: path.join(root, 'web/graphiql/main.js') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outdir: tmpDir,
  loader: { '.woff2': 'dataurl', '.woff': 'dataurl', '.ttf': 'dataurl', '.svg': 'dataurl' },
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'linked',
  logLevel: 'warning',
});
writeFileSync(
  path.join(tmpDir, 'index.html'),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>saeboard · GraphiQL</title>
<link rel="stylesheet" href="/graphiql/graphiql.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script type="module" src="/graphiql/graphiql.js"></script>
</body>
</html>
`,
);
// Replace the previous build in one step, so a running server never sees half of one.
rmSync(outDir, { recursive: true, force: true });
renameSync(tmpDir, outDir);
process.stderr.write(`saeboard: GraphiQL bundled into ${path.relative(root, outDir)} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
