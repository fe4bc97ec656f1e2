/**
 * SAEBOARD_GEMM=auto|own|openblas (native/gemm/own_sgemm.c saeboard_gemm_use_own): which GEMM an
 * OpenBLAS build's calls take. auto takes the own SGEMM exactly where its micro-kernel is a wider
 * vector ISA than OpenBLAS's core (AVX-512 over an AVX2 core, as an OPENBLAS_CORETYPE override that
 * some VM images set machine-wide gives; AVX2 over an older one); both addons (tfjs kernels and the SAE step) follow the one rule, seen here in
 * their results: auto's are bit-equal to those of the GEMM it names. A bad value is one error line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuSimd } from '../../bench/harness.js';
import { localAddonPath, NATIVE_ADDON_PATH, type NativeAddon, type NativeInfo } from '../../src/tensor/kernels/native.js';
import { PROJECT_ROOT } from '../../src/version.js';

const TSX = import.meta.resolve('tsx');
const built = existsSync(NATIVE_ADDON_PATH);
const blas = built ? ((createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon).info().blas ?? 'openblas') : null;
const avx512 = cpuSimd() === 'avx512';
const openblasBuild = built && blas === 'openblas' && process.arch === 'x64';

/** The addon's info() in a fresh process (OpenBLAS reads OPENBLAS_CORETYPE when it loads). */
function infoWith(env: Record<string, string | undefined>): NativeInfo {
  const r = spawnSync(process.execPath, ['-e', `process.stdout.write(JSON.stringify(require(${JSON.stringify(NATIVE_ADDON_PATH)}).info()))`], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as NativeInfo;
}

function parity(env: Record<string, string | undefined>) {
  const r = spawnSync(process.execPath, ['--import', TSX, path.join(PROJECT_ROOT, 'test', 'tensor', 'fixtures', 'native-parity.ts')], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      SAEBOARD_NATIVE_PATH: NATIVE_ADDON_PATH,
      SAEBOARD_SAE_NATIVE_PATH: localAddonPath('saeboard_sae'),
      SAEBOARD_LOG_LEVEL: 'warn',
      SAEBOARD_BACKEND: 'wasm+native',
      SAEBOARD_SAE_GEMM: undefined,
      ...env,
    },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { gemm: string; sae: unknown; logits: number[] };
}

describe('SAEBOARD_GEMM', () => {
  it.skipIf(!openblasBuild)('auto takes the own SGEMM only where its kernel is wider than OpenBLAS\'s core (AVX-512 over AVX2, AVX2 over AVX); own and openblas force', () => {
    const haswell = infoWith({ OPENBLAS_CORETYPE: 'Haswell', SAEBOARD_GEMM: undefined });
    expect(haswell.corename).toBe('Haswell');
    expect(haswell.ownKernel).toBe(avx512 ? 'avx512' : haswell.ownKernel);
    expect(haswell.gemm).toBe(avx512 ? 'own' : 'openblas');
    expect(infoWith({ OPENBLAS_CORETYPE: 'Haswell', SAEBOARD_GEMM: 'auto' }).gemm).toBe(haswell.gemm);
    // the own SGEMM held to its AVX2 kernel: no gain over OpenBLAS's Haswell core, so OpenBLAS
    const ownAvx2 = infoWith({ OPENBLAS_CORETYPE: 'Haswell', SAEBOARD_SGEMM_KERNEL: 'avx2', SAEBOARD_GEMM: undefined });
    expect(ownAvx2.ownKernel).toBe('avx2');
    expect(ownAvx2.gemm).toBe('openblas');
    // ... but over OpenBLAS held to an AVX (no FMA) core it is the wider one; the plain C kernel never is
    const sandy = infoWith({ OPENBLAS_CORETYPE: 'Sandybridge', SAEBOARD_SGEMM_KERNEL: 'avx2', SAEBOARD_GEMM: undefined });
    expect([sandy.corename, sandy.gemm]).toEqual(['Sandybridge', 'own']);
    expect(infoWith({ OPENBLAS_CORETYPE: 'Sandybridge', SAEBOARD_SGEMM_KERNEL: 'generic', SAEBOARD_GEMM: undefined }).gemm).toBe('openblas');
    if (avx512) {
      // OpenBLAS on its own AVX-512 core keeps the calls
      const skx = infoWith({ OPENBLAS_CORETYPE: 'SkylakeX', SAEBOARD_GEMM: undefined });
      expect(skx.corename).toBe('SkylakeX');
      expect(skx.gemm).toBe('openblas');
      expect(infoWith({ OPENBLAS_CORETYPE: 'SkylakeX', SAEBOARD_GEMM: 'own' }).gemm).toBe('own');
    }
    expect(infoWith({ OPENBLAS_CORETYPE: 'Haswell', SAEBOARD_GEMM: 'openblas' }).gemm).toBe('openblas');
    expect(infoWith({ OPENBLAS_CORETYPE: 'Haswell', SAEBOARD_GEMM: 'own' }).gemm).toBe('own');
  });

  it.skipIf(!openblasBuild)('both addons follow it: auto gives bit for bit the results of the GEMM it names', () => {
    const env = { OPENBLAS_CORETYPE: 'Haswell', OPENBLAS_L2_SIZE: undefined };
    const auto = parity({ ...env, SAEBOARD_GEMM: undefined });
    const own = parity({ ...env, SAEBOARD_GEMM: 'own' });
    const openblas = parity({ ...env, SAEBOARD_GEMM: 'openblas' });
    expect([own.gemm, openblas.gemm]).toEqual(['own', 'openblas']);
    // the two GEMMs round differently (so equality below says which one ran)
    expect(own.sae).not.toEqual(openblas.sae);
    expect(own.logits).not.toEqual(openblas.logits);
    const named = auto.gemm === 'own' ? own : openblas;
    expect(auto.gemm).toBe(avx512 ? 'own' : 'openblas');
    expect(auto.sae).toEqual(named.sae); // the SAE step's addon (it has no info of its own)
    expect(auto.logits).toEqual(named.logits);
    // SAEBOARD_SAE_GEMM overrides SAEBOARD_GEMM for the SAE step only
    const saeOwn = parity({ ...env, SAEBOARD_GEMM: 'openblas', SAEBOARD_SAE_GEMM: 'own' });
    expect(saeOwn.sae).toEqual(own.sae);
    expect(saeOwn.logits).toEqual(openblas.logits);
  }, 300_000);

  it('a bad value is one readable error line, exit 1', () => {
    for (const name of ['SAEBOARD_GEMM', 'SAEBOARD_SAE_GEMM']) {
      const r = spawnSync(process.execPath, ['--import', TSX, path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'doctor', '--rows', '8', '--reps', '1'], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, SAEBOARD_LOG_LEVEL: 'warn', [name]: 'mkl' },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(`saeboard: error: ${name} must be one of auto, own, openblas, got "mkl"`);
    }
  }, 240_000);
});
