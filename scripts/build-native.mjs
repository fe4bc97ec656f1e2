#!/usr/bin/env node
// Builds saeboard's native kernels (native/binding.gyp, two addons in native/build/Release/):
//   saeboard_native.node — OpenBLAS matmul + elementwise kernels registered with tfjs (src/tensor/kernels)
//   saeboard_sae.node    — the fused SAE training step (src/sae/native.ts)
//
// Run by `npm install` (the package's "install" script) and by `npm run build:native` (--force).
// It must never fail the install: without a C compiler, Node headers or libopenblas-dev it prints
// ONE line saying how to get the fast path and exits 0, and saeboard falls back to its pure-JS
// kernels. Full compiler output goes to native/build.log.
//
// Options: --force  rebuild even when the addon is up to date
//          --quiet  no line on success
// Env:     SAEBOARD_SKIP_NATIVE_BUILD=1 skips the build entirely.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const addonPath = path.join(nativeDir, 'build', 'Release', 'saeboard_native.node');
const saeAddonPath = path.join(nativeDir, 'build', 'Release', 'saeboard_sae.node');
const logPath = path.join(nativeDir, 'build.log');
const args = new Set(process.argv.slice(2));
const force = args.has('--force');
const quiet = args.has('--quiet');
const HINT =
  'for the fast path: apt-get install libopenblas-dev build-essential python3, then npm run build:native';

function say(line) {
  process.stdout.write(`saeboard: ${line}\n`);
}

function giveUp(reason) {
  say(`native OpenBLAS kernels not built (${reason}); using the slower pure-JS kernels. ${HINT}`);
  process.exit(0);
}

function newestSourceMtime() {
  let newest = statSync(path.join(nativeDir, 'binding.gyp')).mtimeMs;
  for (const dir of ['src', 'sae']) {
    for (const f of readdirSync(path.join(nativeDir, dir))) {
      newest = Math.max(newest, statSync(path.join(nativeDir, dir, f)).mtimeMs);
    }
  }
  return newest;
}

function upToDate() {
  const built = [addonPath, saeAddonPath].filter((p) => existsSync(p));
  return built.length === 2 && Math.min(...built.map((p) => statSync(p).mtimeMs)) >= newestSourceMtime();
}

function has(cmd, argv = ['--version']) {
  const r = spawnSync(cmd, argv, { stdio: 'ignore' });
  return r.status === 0;
}

/** node-gyp: the one npm passes to lifecycle scripts, else the copy bundled with npm. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  candidates.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' });
  if (npmRoot.status === 0) {
    candidates.push(path.join(npmRoot.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  return candidates.find((c) => existsSync(c));
}

/** A directory with include/node/node_api.h (so node-gyp need not download headers; no internet). */
function findNodeDir() {
  const candidates = [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..'), '/usr', '/usr/local'];
  return candidates.find((d) => d && existsSync(path.join(d, 'include', 'node', 'node_api.h')));
}

function main() {
  if (process.env.SAEBOARD_SKIP_NATIVE_BUILD === '1') giveUp('SAEBOARD_SKIP_NATIVE_BUILD=1');
  if (!existsSync(path.join(nativeDir, 'binding.gyp'))) giveUp('native/binding.gyp missing');
  if (!force && upToDate()) {
    if (!quiet) say('native OpenBLAS kernels are up to date (npm run build:native rebuilds)');
    return;
  }
  if (!has('cc') && !has('gcc')) giveUp('no C compiler');
  if (!has('make')) giveUp('no make');
  if (!has('python3') && !has('python')) giveUp('no python3 for node-gyp');
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) giveUp('node-gyp not found');
  const nodeDir = findNodeDir();
  if (!nodeDir) giveUp('Node headers (include/node/node_api.h) not found');

  const gypArgs = [nodeGyp, 'rebuild', `--nodedir=${nodeDir}`, '--jobs=2'];
  const r = spawnSync(process.execPath, gypArgs, { cwd: nativeDir, encoding: 'utf8', timeout: 300_000 });
  const log = `$ ${process.execPath} ${gypArgs.join(' ')}\n${r.stdout ?? ''}\n${r.stderr ?? ''}\n${r.error ? String(r.error) : ''}`;
  mkdirSync(nativeDir, { recursive: true });
  writeFileSync(logPath, log);
  if (r.status !== 0 || !existsSync(addonPath) || !existsSync(saeAddonPath)) {
    const missingBlas = /cannot find -lopenblas|openblas/i.test(`${r.stdout}${r.stderr}`);
    giveUp(`${missingBlas ? 'libopenblas not found' : 'compile failed'}; details in native/build.log`);
  }

  // Load it in a child process: a broken build must not crash this script, and OpenBLAS
  // threads should not linger in npm's process.
  const check = spawnSync(
    process.execPath,
    ['-e', `require(${JSON.stringify(saeAddonPath)}); const a = require(${JSON.stringify(addonPath)}); const i = a.info(); console.log(i.corename + ' ' + i.blasThreads);`],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (check.status !== 0) {
    writeFileSync(logPath, `${log}\n--- load check ---\n${check.stdout}\n${check.stderr}`);
    giveUp('built addon fails to load; details in native/build.log');
  }
  const [core, threads] = check.stdout.trim().split(' ');
  if (!quiet) say(`native kernels built: OpenBLAS matmul/elementwise + fused SAE step (OpenBLAS core ${core}, ${threads} threads)`);
}

try {
  main();
} catch (err) {
  giveUp(`unexpected error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
}
