export interface PrebuiltManifest {
  /** nativeSourceHash() of the sources the addons were built from. */
  sourceHash: string;
  platform: string;
  arch: string;
  /** The newest glibc symbol version the addons use (the oldest glibc they run on). */
  glibc: string | null;
  /** The GEMM inside: always saeboard's own SGEMM ('own'). */
  blas: 'own';
  napiVersion: number;
  compiler: string;
  builtAt: string;
}

export declare const NATIVE_SOURCE_DIRS: string[];
export declare const PREBUILT_DIR: string;
export declare const PREBUILT_FILES: string[];
export declare function nativeSourceHash(): string;
export declare function runtimeGlibc(): string | null;
export declare function compareVersions(x: string, y: string): number;
export declare function prebuiltStatus(): { ok: true; dir: string; manifest: PrebuiltManifest } | { ok: false; reason: string };
