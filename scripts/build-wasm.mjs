#!/usr/bin/env node
// Builds saeboard's WebAssembly SGEMM (native/wasm/sgemm.c → native/wasm/sgemm.wasm, with
// sgemm.json: the source hash and the compiler), what the no-compiler path (wasm+js) runs its
// large products on. Needs clang with the wasm32 target and wasm-ld (Debian: clang lld). Run it
// after changing sgemm.c (a test fails until you do) and commit the result:
//
//   npm run build:wasm
//
// Written next to the target and renamed over it, so a failed build never leaves half a file.
import { spawnSync } from 'node:child_process';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { WASM_SGEMM_FILE, WASM_SGEMM_FLAGS, WASM_SGEMM_MANIFEST, WASM_SGEMM_SOURCE, wasmSourceHash } from '../native/wasm/sgemm.mjs';

function fail(message) {
  process.stderr.write(`build:wasm: ${message}\n`);
  process.exit(1);
}

const clang = process.env.CLANG ?? 'clang';
const version = spawnSync(clang, ['--version'], { encoding: 'utf8' });
if (version.error || version.status !== 0) fail(`${clang} not found: install clang and lld (Debian: apt-get install clang lld), or set CLANG`);
const tmp = `${WASM_SGEMM_FILE}.tmp-${process.pid}`;
const r = spawnSync(clang, [...WASM_SGEMM_FLAGS, '-o', tmp, WASM_SGEMM_SOURCE], { encoding: 'utf8' });
if (r.status !== 0) {
  rmSync(tmp, { force: true });
  fail(`${clang} exited with ${r.status}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' / ')}`);
}
renameSync(tmp, WASM_SGEMM_FILE);
const manifest = { sourceHash: wasmSourceHash(), compiler: version.stdout.split('\n')[0].trim() };
writeFileSync(`${WASM_SGEMM_MANIFEST}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
renameSync(`${WASM_SGEMM_MANIFEST}.tmp`, WASM_SGEMM_MANIFEST);
process.stdout.write(`build:wasm: ${WASM_SGEMM_FILE} (${manifest.compiler})\n`);
