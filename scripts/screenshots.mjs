#!/usr/bin/env node
// `npm run screenshots`: regenerate docs/img/dashboard-*.png, the README's pictures of each page.
// They come from the browser tests (test/web/dashboard.test.ts; test/web/analyses.test.ts for the
// compare page), which build the app, seed a database with the project's own pipeline on tiny data
// and open every page in Chromium; with SAEBOARD_SCREENSHOTS set they also write the 1280×900
// views into docs/img/.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const r = spawnSync(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', 'test/web/dashboard.test.ts', 'test/web/analyses.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, SAEBOARD_SCREENSHOTS: '1' },
});
process.exit(r.status ?? 1);
