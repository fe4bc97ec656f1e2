#!/usr/bin/env node
// Builds the prebuilt native addons committed in native/prebuilt/<platform>-<arch>/ (see
// native/prebuilt.mjs): both addons with saeboard's own SGEMM (--blas=none: no OpenBLAS to link,
// only libc and libm), stripped, with a manifest.json of the source hash, the oldest glibc they
// run on, the compiler and the date. An install without a C compiler loads them instead of
// falling back to the pure-JS kernels. Run it after changing anything the hash covers (a test
// fails until you do) and commit the result:
//
//   npm run build:prebuilt
//
// Written to a temporary folder next to the target and renamed over it, so a failed build never
// leaves a half-replaced prebuilt. The build is reproducible (same sources and compiler, same
// bytes): when nothing changed, the committed folder is kept as it is.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareVersions, nativeSourceHash, PREBUILT_DIR, PREBUILT_FILES } from '../native/prebuilt.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  process.stderr.write(`build:prebuilt: ${message}\n`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' / ')}`);
  return r.stdout;
}

if (process.platform !== 'linux') fail(`prebuilt addons are made on Linux only (this is ${process.platform})`);
const work = mkdtempSync(path.join(os.tmpdir(), 'saeboard-prebuilt-'));
try {
  const hashBefore = nativeSourceHash();
  run(process.execPath, [path.join(root, 'scripts', 'build-native.mjs'), '--force', '--quiet', '--blas=none', `--out=${work}`], { cwd: root });
  const built = PREBUILT_FILES.map((f) => path.join(work, 'build', 'Release', f));
  for (const f of built) if (!existsSync(f)) fail(`${path.basename(f)} was not built (see ${path.join(work, 'build.log')})`);
  if (nativeSourceHash() !== hashBefore) fail('native/ changed during the build; run it again');

  // both load, and the compute addon has the own SGEMM (never a system BLAS the target may lack)
  const blas = run(process.execPath, ['-e', `require(${JSON.stringify(built[1])}); process.stdout.write(String(require(${JSON.stringify(built[0])}).info().blas));`]).trim();
  if (blas !== 'own') fail(`the build has blas "${blas}", expected saeboard's own SGEMM`);

  const staging = `${PREBUILT_DIR}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const glibcVersions = [];
  for (const f of built) {
    const target = path.join(staging, path.basename(f));
    copyFileSync(f, target);
    run('strip', ['--strip-unneeded', target]);
    const needed = run('objdump', ['-p', target]).match(/NEEDED\s+\S+/g) ?? [];
    const libs = needed.map((l) => l.split(/\s+/)[1]);
    const foreign = libs.filter((l) => !/^(libc|libm|libpthread|libdl|ld-linux[^.]*)\.so/.test(l));
    if (foreign.length > 0) fail(`${path.basename(f)} needs ${foreign.join(', ')}: a prebuilt addon may only need libc and libm`);
    for (const m of run('objdump', ['-T', target]).matchAll(/GLIBC_(\d+(?:\.\d+)+)/g)) glibcVersions.push(m[1]);
  }
  const manifest = {
    sourceHash: hashBefore,
    platform: process.platform,
    arch: process.arch,
    glibc: glibcVersions.sort(compareVersions).at(-1) ?? null,
    blas: 'own',
    napiVersion: 8,
    compiler: run('cc', ['--version']).split('\n')[0],
    builtAt: new Date().toISOString(),
  };
  // the build is reproducible: the same sources give the same bytes, so keep the committed folder
  // (and its builtAt) when nothing changed, instead of a manifest-only diff
  const same =
    existsSync(path.join(PREBUILT_DIR, 'manifest.json')) &&
    JSON.parse(readFileSync(path.join(PREBUILT_DIR, 'manifest.json'), 'utf8')).sourceHash === manifest.sourceHash &&
    PREBUILT_FILES.every((f) => existsSync(path.join(PREBUILT_DIR, f)) && readFileSync(path.join(PREBUILT_DIR, f)).equals(readFileSync(path.join(staging, f))));
  if (same) {
    rmSync(staging, { recursive: true, force: true });
    process.stdout.write(`build:prebuilt: ${path.relative(root, PREBUILT_DIR)} is up to date (the same sources build the same bytes)\n`);
  } else {
    writeFileSync(path.join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    rmSync(PREBUILT_DIR, { recursive: true, force: true });
    renameSync(staging, PREBUILT_DIR);
    process.stdout.write(`build:prebuilt: ${path.relative(root, PREBUILT_DIR)} (own SGEMM, glibc ≥ ${manifest.glibc}, sources ${manifest.sourceHash.slice(0, 12)})\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
