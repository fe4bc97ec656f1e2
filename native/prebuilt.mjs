// The prebuilt native addons (native/prebuilt/<platform>-<arch>/): saeboard's two addons built with
// its own SGEMM (no OpenBLAS, no -march: the micro-kernel and the element-wise clones are picked
// at load time), committed so that an install without a C compiler still gets native speed
// instead of the pure-JS kernels (issue 20). `npm run build:prebuilt` makes them; manifest.json
// records the hash of the C sources they were built from, and they are used only while that
// matches this checkout's sources, so a C change can never run against an older binary.
//
// Plain JavaScript, because both the install script (scripts/build-native.mjs, run before any
// TypeScript tooling exists) and the runtime loader (src/tensor/kernels/native.ts) ask it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = path.dirname(fileURLToPath(import.meta.url));

/** What the addons are built from: binding.gyp and every file in these folders of native/. */
export const NATIVE_SOURCE_DIRS = ['src', 'sae', 'gemm'];

/** The prebuilt addons' folder for this process's platform and CPU architecture. */
export const PREBUILT_DIR = path.join(nativeDir, 'prebuilt', `${process.platform}-${process.arch}`);

export const PREBUILT_FILES = ['saeboard_native.node', 'saeboard_sae.node'];

/** sha256 over native/binding.gyp and the source folders (relative paths and contents, in order). */
export function nativeSourceHash() {
  const files = ['binding.gyp'];
  for (const dir of NATIVE_SOURCE_DIRS) {
    if (!existsSync(path.join(nativeDir, dir))) continue;
    for (const f of readdirSync(path.join(nativeDir, dir)).sort()) files.push(`${dir}/${f}`);
  }
  const hash = createHash('sha256');
  for (const f of files) {
    hash.update(`${f}\0`);
    hash.update(readFileSync(path.join(nativeDir, f)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** glibc version of this process ("2.36"), or null on musl and non-Linux systems. */
export function runtimeGlibc() {
  if (process.platform !== 'linux') return null;
  const header = /** @type {{ header?: { glibcVersionRuntime?: string } }} */ (process.report?.getReport?.() ?? {}).header;
  return header?.glibcVersionRuntime ?? null;
}

/** Orders dotted versions ("2.34" < "2.36" < "2.36.1"): negative, zero or positive, as for sort. */
export function compareVersions(x, y) {
  const a = x.split('.').map(Number);
  const b = y.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  }
  return 0;
}

/**
 * Whether the prebuilt addons can run here: { ok: true, dir, manifest } or { ok: false, reason }
 * (no build for this platform, built from other sources than this checkout's, or a glibc older
 * than the build needs).
 */
export function prebuiltStatus() {
  const manifestPath = path.join(PREBUILT_DIR, 'manifest.json');
  if (!existsSync(manifestPath) || PREBUILT_FILES.some((f) => !existsSync(path.join(PREBUILT_DIR, f)))) {
    return { ok: false, reason: `no prebuilt native kernels for ${process.platform}-${process.arch}` };
  }
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    return { ok: false, reason: `the prebuilt kernels' manifest is unreadable (${err instanceof Error ? err.message : String(err)})` };
  }
  if (manifest.sourceHash !== nativeSourceHash()) {
    return { ok: false, reason: 'the prebuilt native kernels are older than native/ (npm run build:prebuilt rebuilds them)' };
  }
  if (manifest.glibc) {
    const glibc = runtimeGlibc();
    if (glibc === null) return { ok: false, reason: `the prebuilt native kernels need glibc ≥ ${manifest.glibc} (this system has none)` };
    if (compareVersions(glibc, manifest.glibc) < 0) {
      return { ok: false, reason: `the prebuilt native kernels need glibc ≥ ${manifest.glibc} (this system has ${glibc})` };
    }
  }
  return { ok: true, dir: PREBUILT_DIR, manifest };
}
