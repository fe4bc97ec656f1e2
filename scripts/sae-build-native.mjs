#!/usr/bin/env node
// Builds the fused native SAE step (native/sae/sae_step.c) into
// native/build/sae/saeboard_sae.node (native/build/ is not versioned). Like scripts/build-native.mjs
// it never fails hard: without a compiler, Node headers or libopenblas-dev it says so in one line
// and exits 0, and the SAE trainers use the pure-tfjs step. Sources are built in a copy under
// native/build/sae-src so no build output lands in the source tree.
//   node scripts/sae-build-native.mjs [--force] [--quiet]
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'native', 'sae');
const work = path.join(root, 'native', 'build', 'sae-src');
const out = path.join(root, 'native', 'build', 'sae', 'saeboard_sae.node');
const args = new Set(process.argv.slice(2));
const say = (line) => !args.has('--quiet') && process.stdout.write(`saeboard: ${line}\n`);
const giveUp = (reason) => {
  process.stdout.write(`saeboard: fused native SAE step not built (${reason}); SAE training uses the pure-tfjs step\n`);
  process.exit(0);
};

function nodeGyp() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const c = [process.env.npm_config_node_gyp, path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
  const r = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' });
  if (r.status === 0) c.push(path.join(r.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return c.find((x) => x && existsSync(x));
}

function nodeDir() {
  return [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..'), '/usr', '/usr/local'].find(
    (d) => d && existsSync(path.join(d, 'include', 'node', 'node_api.h')),
  );
}

try {
  const newest = Math.max(statSync(path.join(src, 'sae_step.c')).mtimeMs, statSync(path.join(src, 'binding.gyp')).mtimeMs);
  if (!args.has('--force') && existsSync(out) && statSync(out).mtimeMs >= newest) {
    say('fused native SAE step is up to date');
    process.exit(0);
  }
  const gyp = nodeGyp();
  const dir = nodeDir();
  if (!gyp) giveUp('node-gyp not found');
  if (!dir) giveUp('Node headers not found');
  mkdirSync(work, { recursive: true });
  for (const f of ['sae_step.c', 'binding.gyp']) copyFileSync(path.join(src, f), path.join(work, f));
  const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${dir}`, '--jobs=2'], { cwd: work, encoding: 'utf8', timeout: 300_000 });
  writeFileSync(path.join(work, 'build.log'), `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  const built = path.join(work, 'build', 'Release', 'saeboard_sae.node');
  if (r.status !== 0 || !existsSync(built)) giveUp(`compile failed; details in ${path.relative(root, path.join(work, 'build.log'))}`);
  mkdirSync(path.dirname(out), { recursive: true });
  // copy then rename: a process loading the addon meanwhile sees the old or the new file, never half
  const tmp = `${out}.${process.pid}.tmp`;
  copyFileSync(built, tmp);
  renameSync(tmp, out);
  const check = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(out)})`], { encoding: 'utf8' });
  if (check.status !== 0) giveUp('built addon fails to load');
  say(`fused native SAE step built → ${path.relative(root, out)}`);
} catch (err) {
  giveUp(`unexpected error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
}
