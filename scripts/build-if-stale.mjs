#!/usr/bin/env node
// `npm start`'s prestart: rebuild only when a source, the schema of the build or the dependencies
// changed since the last build (a full tsc + GraphiQL bundle costs seconds at every start otherwise).
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const stamp = path.join(root, 'dist', '.build-stamp');

function newest(p) {
  if (!existsSync(p)) return 0;
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  let m = s.mtimeMs;
  for (const e of readdirSync(p)) m = Math.max(m, newest(path.join(p, e)));
  return m;
}

const inputs = ['src', 'web', 'scripts/build-graphiql.mjs', 'scripts/build-web.mjs', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (built && inputs.every((i) => newest(path.join(root, i)) <= built)) process.exit(0);
execSync('npm run build', { cwd: root, stdio: 'inherit' });
writeFileSync(stamp, `${new Date().toISOString()}\n`);
