#!/usr/bin/env node
// `npm run screenshots`: regenerate docs/img/dashboard-*.png, the README's pictures of each page.
// They come from the browser test (test/web/dashboard.test.ts), which builds the app, seeds a
// database with the project's own pipeline on tiny data and opens every page in Chromium; with
// SAEBOARD_SCREENSHOTS set it also writes the 1280×900 views into docs/img/.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const r = spawnSync(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', 'test/web/dashboard.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, SAEBOARD_SCREENSHOTS: '1' },
});
process.exit(r.status ?? 1);
