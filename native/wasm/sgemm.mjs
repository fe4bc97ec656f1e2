// What the committed WebAssembly SGEMM (native/wasm/sgemm.wasm) is built from, for its build
// script (scripts/build-wasm.mjs) and the test that it is up to date (test/tensor/wasm-sgemm.test.ts).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WASM_DIR = path.dirname(fileURLToPath(import.meta.url));
export const WASM_SGEMM_SOURCE = path.join(WASM_DIR, 'sgemm.c');
export const WASM_SGEMM_FILE = path.join(WASM_DIR, 'sgemm.wasm');
export const WASM_SGEMM_MANIFEST = path.join(WASM_DIR, 'sgemm.json');

// SIMD128; a shared memory (every thread's instance runs on one), up to 4 GiB; the stack pointer
// exported so each instance gets a stack of its own
export const WASM_SGEMM_FLAGS = [
  '--target=wasm32',
  '-msimd128',
  '-matomics',
  '-mbulk-memory',
  '-mmutable-globals',
  '-O3',
  '-nostdlib',
  '-Wl,--no-entry',
  '-Wl,--import-memory',
  '-Wl,--shared-memory',
  '-Wl,--max-memory=4294967296',
  '-Wl,--export=__stack_pointer',
];

/** sha256 over the flags and the source: what the manifest records and the test compares. */
export function wasmSourceHash() {
  const hash = createHash('sha256');
  hash.update(`${WASM_SGEMM_FLAGS.join(' ')}\0`);
  hash.update(readFileSync(WASM_SGEMM_SOURCE));
  return hash.digest('hex');
}
