#!/usr/bin/env node
// Builds saeboard's native kernels (native/binding.gyp, two addons in native/build/Release/):
//   saeboard_native.node — matmul + elementwise kernels registered with tfjs (src/tensor/kernels)
//   saeboard_sae.node    — the fused SAE training step (src/sae/native.ts)
// GEMMs go through OpenBLAS when libopenblas-dev is installed; without it (or with
// SAEBOARD_BLAS=none / --blas=none) the addons are built with saeboard's own cache-blocked,
// vectorised SGEMM (native/gemm/own_sgemm.c), so a machine with a C compiler but no OpenBLAS still
// gets a native path (within ~2x of OpenBLAS) instead of the pure-JS kernels.
//
// Run by `npm install` (the package's "install" script) and by `npm run build:native` (--force).
// It must never fail the install: without a C compiler or Node headers it prints ONE line saying
// how to get the fast path and exits 0, and saeboard loads the committed prebuilt addons
// (native/prebuilt.mjs: own SGEMM, linux-x64 with glibc ≥ 2.34) or else its pure-JS kernels. Full
// compiler output goes to native/build.log (or <out>/build.log).
//
// Options: --force        rebuild even when the addon is up to date
//          --quiet        no line on success
//          --blas=openblas|none|auto   which GEMM (default: SAEBOARD_BLAS, else auto = OpenBLAS
//                         when it links, else the own SGEMM)
//          --out=DIR      build in DIR instead of native/ (the sources are copied there; the addons
//                         land in DIR/build/Release): a second variant next to the default build
// Env:     SAEBOARD_SKIP_NATIVE_BUILD=1 skips the build entirely; SAEBOARD_BLAS as --blas;
//          SAEBOARD_PRETEND_NO_OPENBLAS=1 makes auto act as if libopenblas were missing (tests).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NATIVE_SOURCE_DIRS, prebuiltStatus } from '../native/prebuilt.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = path.join(root, 'native');
const SOURCE_DIRS = NATIVE_SOURCE_DIRS;
const argv = process.argv.slice(2);
const args = new Set(argv);
const valueOf = (name) => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
};
const force = args.has('--force');
const quiet = args.has('--quiet');
const outArg = valueOf('out');
const nativeDir = outArg ? path.resolve(outArg) : sourceDir;
const blasWanted = (valueOf('blas') ?? process.env.SAEBOARD_BLAS ?? 'auto').toLowerCase();
const addonPath = path.join(nativeDir, 'build', 'Release', 'saeboard_native.node');
const saeAddonPath = path.join(nativeDir, 'build', 'Release', 'saeboard_sae.node');
const variantPath = path.join(nativeDir, 'build', 'Release', 'blas-variant');
const logPath = path.join(nativeDir, 'build.log');
const HINT =
  'for the fast path: apt-get install libopenblas-dev build-essential python3, then npm run build:native';

function say(line) {
  process.stdout.write(`saeboard: ${line}\n`);
}

function giveUp(reason) {
  // an install without a compiler still runs native when the committed prebuilt addons fit here
  const prebuilt = outArg || (process.env.SAEBOARD_PREBUILT ?? '').toLowerCase() === 'off' ? { ok: false } : prebuiltStatus();
  say(
    prebuilt.ok
      ? `native kernels not built (${reason}); using the prebuilt ones (native/prebuilt, saeboard's own SGEMM). For OpenBLAS GEMMs: apt-get install libopenblas-dev build-essential python3, then npm run build:native`
      : `native kernels not built (${reason}); using the slower pure-JS kernels. ${HINT}`,
  );
  process.exit(0);
}

function newestSourceMtime() {
  let newest = statSync(path.join(sourceDir, 'binding.gyp')).mtimeMs;
  for (const dir of SOURCE_DIRS) {
    if (!existsSync(path.join(sourceDir, dir))) continue;
    for (const f of readdirSync(path.join(sourceDir, dir))) {
      newest = Math.max(newest, statSync(path.join(sourceDir, dir, f)).mtimeMs);
    }
  }
  return newest;
}

function builtVariant() {
  try {
    return readFileSync(variantPath, 'utf8').trim();
  } catch {
    return 'openblas'; // builds from before the own SGEMM were OpenBLAS builds
  }
}

function upToDate(variant) {
  const built = [addonPath, saeAddonPath].filter((p) => existsSync(p));
  if (built.length !== 2 || Math.min(...built.map((p) => statSync(p).mtimeMs)) < newestSourceMtime()) return false;
  return variant === 'auto' ? builtVariant() === (openblasLinks() ? 'openblas' : 'none') : builtVariant() === variant;
}

/** Whether a program calling cblas_sgemm links against -lopenblas here. */
let linksMemo;
function openblasLinks() {
  if (linksMemo !== undefined) return linksMemo;
  // a fresh machine without libopenblas-dev, for the tests of the fallback
  if (process.env.SAEBOARD_PRETEND_NO_OPENBLAS === '1') return (linksMemo = false);
  const cc = has('cc') ? 'cc' : 'gcc';
  const r = spawnSync(cc, ['-x', 'c', '-', '-o', '/dev/null', '-lopenblas'], {
    input: 'extern void cblas_sgemm(void); int main(void) { cblas_sgemm(); return 0; }\n',
    stdio: ['pipe', 'ignore', 'ignore'],
    timeout: 60_000,
  });
  linksMemo = r.status === 0;
  return linksMemo;
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
  if (!['auto', 'openblas', 'none'].includes(blasWanted)) giveUp(`--blas / SAEBOARD_BLAS must be auto, openblas or none (got "${blasWanted}")`);
  if (!existsSync(path.join(sourceDir, 'binding.gyp'))) giveUp('native/binding.gyp missing');
  if (!has('cc') && !has('gcc')) giveUp('no C compiler');
  if (!force && upToDate(blasWanted)) {
    if (!quiet) say(`native kernels are up to date (${builtVariant() === 'none' ? 'own SGEMM' : 'OpenBLAS'}; npm run build:native rebuilds)`);
    return;
  }
  if (!has('make')) giveUp('no make');
  if (!has('python3') && !has('python')) giveUp('no python3 for node-gyp');
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) giveUp('node-gyp not found');
  const nodeDir = findNodeDir();
  if (!nodeDir) giveUp('Node headers (include/node/node_api.h) not found');

  if (nativeDir !== sourceDir) {
    mkdirSync(nativeDir, { recursive: true });
    cpSync(path.join(sourceDir, 'binding.gyp'), path.join(nativeDir, 'binding.gyp'));
    for (const dir of SOURCE_DIRS) cpSync(path.join(sourceDir, dir), path.join(nativeDir, dir), { recursive: true });
  }

  // auto: OpenBLAS when it links here, else the own SGEMM (never the pure-JS cliff when a compiler exists)
  let variant = blasWanted === 'auto' ? (openblasLinks() ? 'openblas' : 'none') : blasWanted;
  let fellBack = blasWanted === 'auto' && variant === 'none';
  let log = '';
  const build = (v) => {
    const gypArgs = [nodeGyp, 'rebuild', `--nodedir=${nodeDir}`, '--jobs=2'];
    const r = spawnSync(process.execPath, gypArgs, { cwd: nativeDir, encoding: 'utf8', timeout: 300_000, env: { ...process.env, SAEBOARD_BLAS: v } });
    log += `$ SAEBOARD_BLAS=${v} ${process.execPath} ${gypArgs.join(' ')}\n${r.stdout ?? ''}\n${r.stderr ?? ''}\n${r.error ? String(r.error) : ''}\n`;
    return r.status === 0 && existsSync(addonPath) && existsSync(saeAddonPath);
  };
  let ok = build(variant);
  if (!ok && variant === 'openblas' && blasWanted === 'auto') {
    // OpenBLAS linked in the probe but the build failed on it: the own SGEMM still beats pure JS
    variant = 'none';
    fellBack = true;
    ok = build(variant);
  }
  mkdirSync(nativeDir, { recursive: true });
  writeFileSync(logPath, log);
  if (!ok) {
    const missingBlas = /cannot find -lopenblas/i.test(log);
    giveUp(`${missingBlas ? 'libopenblas not found (build with --blas=none for the own SGEMM)' : 'compile failed'}; details in ${path.relative(root, logPath)}`);
  }
  writeFileSync(variantPath, `${variant}\n`);

  // Load it in a child process: a broken build must not crash this script, and BLAS threads
  // should not linger in npm's process.
  const check = spawnSync(
    process.execPath,
    ['-e', `require(${JSON.stringify(saeAddonPath)}); const a = require(${JSON.stringify(addonPath)}); const i = a.info(); console.log(i.corename + ' ' + i.blasThreads + ' ' + (i.blas || 'openblas'));`],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (check.status !== 0) {
    writeFileSync(logPath, `${log}\n--- load check ---\n${check.stdout}\n${check.stderr}`);
    giveUp(`built addon fails to load; details in ${path.relative(root, logPath)}`);
  }
  const [core, threads, blas] = check.stdout.trim().split(' ');
  if (quiet) return;
  if (blas === 'own') {
    say(
      `native kernels built with saeboard's own SGEMM (${core}, ${threads} threads) + fused SAE step` +
        (fellBack ? `: libopenblas not found; for the fastest GEMMs: apt-get install libopenblas-dev && npm run build:native` : ''),
    );
  } else {
    say(`native kernels built: OpenBLAS matmul/elementwise + fused SAE step (OpenBLAS core ${core}, ${threads} threads)`);
  }
}

try {
  main();
} catch (err) {
  giveUp(`unexpected error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
}
