/**
 * Backend selection: the order rule (with probe functions standing for what is installed), the
 * SAEBOARD_BACKEND parser, and real child processes forcing each backend this machine has, plus
 * the fallback to pure-JS kernels when the addon is (pretended) absent.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUTO_ORDER, chooseBackend, parseBackendName, type BackendName } from '../../src/tensor/backend.js';
import { UserInputError } from '../../src/errors.js';
import { loadNative } from '../../src/tensor/kernels/native.js';
import { PROJECT_ROOT } from '../../src/version.js';

describe('chooseBackend', () => {
  const probeWith = (available: BackendName[]) => {
    const asked: BackendName[] = [];
    const probe = async (name: BackendName) => {
      asked.push(name);
      return available.includes(name) ? null : `${name} missing`;
    };
    return { probe, asked };
  };

  it('takes the first available backend in order tfjs-node-gpu, tfjs-node, wasm+native, wasm+js', async () => {
    expect(AUTO_ORDER).toEqual(['tfjs-node-gpu', 'tfjs-node', 'wasm+native', 'wasm+js']);
    const all = probeWith(['tfjs-node-gpu', 'tfjs-node', 'wasm+native', 'wasm+js']);
    expect((await chooseBackend(undefined, all.probe)).name).toBe('tfjs-node-gpu');
    expect(all.asked).toEqual(['tfjs-node-gpu']);

    const noGpu = probeWith(['tfjs-node', 'wasm+native', 'wasm+js']);
    expect((await chooseBackend(undefined, noGpu.probe)).name).toBe('tfjs-node');

    const here = probeWith(['wasm+native', 'wasm+js']);
    const chosen = await chooseBackend(undefined, here.probe);
    expect(chosen.name).toBe('wasm+native');
    expect(chosen.skipped).toEqual([
      { name: 'tfjs-node-gpu', reason: 'tfjs-node-gpu missing' },
      { name: 'tfjs-node', reason: 'tfjs-node missing' },
    ]);

    const noAddon = probeWith(['wasm+js', 'wasm', 'cpu']);
    expect((await chooseBackend(undefined, noAddon.probe)).name).toBe('wasm+js');
    expect(noAddon.asked).not.toContain('wasm'); // stock wasm and cpu are never chosen automatically
  });

  it('uses a forced backend only, and fails clearly when it is unavailable', async () => {
    const here = probeWith(['wasm+native', 'wasm+js', 'wasm', 'cpu']);
    expect((await chooseBackend('wasm+js', here.probe)).name).toBe('wasm+js');
    expect(here.asked).toEqual(['wasm+js']);
    await expect(chooseBackend('tfjs-node', here.probe)).rejects.toThrow(
      new UserInputError('SAEBOARD_BACKEND=tfjs-node is not available: tfjs-node missing'),
    );
  });

  it('parses SAEBOARD_BACKEND names and aliases', () => {
    expect(parseBackendName(undefined)).toBeUndefined();
    expect(parseBackendName('')).toBeUndefined();
    expect(parseBackendName('auto')).toBeUndefined();
    expect(parseBackendName('wasm+native')).toBe('wasm+native');
    expect(parseBackendName('native')).toBe('wasm+native');
    expect(parseBackendName('WASM-JS')).toBe('wasm+js');
    expect(parseBackendName('wasm')).toBe('wasm');
    expect(parseBackendName('tfjs-node-gpu')).toBe('tfjs-node-gpu');
    expect(() => parseBackendName('webgpu')).toThrow(/SAEBOARD_BACKEND="webgpu" is not a backend; use one of: auto, tfjs-node-gpu/);
  });
});

/** Runs the backend in a fresh process (backend choice is per process) with extra env vars (undefined = unset). */
function runChild(env: Record<string, string | undefined>): {
  ok: boolean;
  error?: string;
  name?: string;
  info?: { name: string; kernels: string; detail?: string; blasCore?: string };
  product?: number[];
  same?: boolean;
} {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, SAEBOARD_LOG_LEVEL: 'silent' };
  for (const key of ['SAEBOARD_BACKEND', 'SAEBOARD_NATIVE', 'SAEBOARD_THREADS']) delete childEnv[key];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  const script = path.join(PROJECT_ROOT, 'test', 'tensor', 'fixtures', 'print-backend.ts');
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: PROJECT_ROOT, env: childEnv, encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`child printed no JSON (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
  }
}

const nativeBuilt = loadNative().addon !== null;

describe('initBackend in a fresh process', () => {
  it.skipIf(!nativeBuilt)('picks wasm+native by default when the addon is built, and reports the BLAS core', () => {
    const r = runChild({ SAEBOARD_GEMM: 'openblas' });
    expect(r.ok).toBe(true);
    expect(r.info?.name).toBe('wasm+native');
    expect(r.info?.kernels).toMatch(/^openblas\(BatchMatMul,_FusedMatMul/);
    // the GEMMs on the own SGEMM: the kernels and the detail say so
    const own = runChild({ SAEBOARD_GEMM: 'own' });
    expect(own.info?.kernels).toMatch(/^own-sgemm\(BatchMatMul,_FusedMatMul/);
    expect(own.info?.detail).toMatch(/; GEMMs on saeboard's own SGEMM \((avx512|avx2|generic)\) by SAEBOARD_GEMM=own/);
    expect(own.product).toEqual([1, 9, 2, 12]);
    expect(r.info?.blasCore).toBeTruthy();
    expect(r.product).toEqual([1, 9, 2, 12]);
    expect(r.same).toBe(true); // backendInfo() returns what initBackend() resolved to
  });

  it.skipIf(!nativeBuilt || process.arch !== 'x64')('reports the OpenBLAS core an OPENBLAS_CORETYPE override forces, and SAEBOARD_OPENBLAS_CORETYPE=auto drops it', () => {
    const natural = runChild({ OPENBLAS_CORETYPE: undefined, OPENBLAS_L2_SIZE: undefined });
    const forced = runChild({ OPENBLAS_CORETYPE: 'Haswell' });
    const auto = runChild({ OPENBLAS_CORETYPE: 'Haswell', SAEBOARD_OPENBLAS_CORETYPE: 'auto' });
    expect(forced.info?.blasCore).toBe('Haswell');
    expect(auto.info?.blasCore).toBe(natural.info?.blasCore);
    expect(auto.product).toEqual([1, 9, 2, 12]);
  });

  it('falls back to wasm kernels (large matmuls on the wasm SGEMM) when the addon is absent, saying why', () => {
    const r = runChild({ SAEBOARD_NATIVE: 'off' });
    expect(r.ok).toBe(true);
    expect(r.info?.name).toBe('wasm+js');
    expect(r.info?.kernels).toBe('wasm-sgemm(BatchMatMul,_FusedMatMul)');
    expect(r.info?.detail).toMatch(/wasm\+native skipped: disabled by SAEBOARD_NATIVE=off; .*npm run build:native/);
    expect(r.product).toEqual([1, 9, 2, 12]);
  });

  it('forces each available backend with SAEBOARD_BACKEND', () => {
    const forced: [string, string][] = [
      ['wasm+js', 'wasm+js'],
      ['wasm', 'wasm'],
    ];
    if (nativeBuilt) forced.push(['native', 'wasm+native']);
    for (const [value, name] of forced) {
      const r = runChild({ SAEBOARD_BACKEND: value });
      expect(r.ok, `${value}: ${r.error}`).toBe(true);
      expect(r.info?.name).toBe(name);
      expect(r.product).toEqual([1, 9, 2, 12]);
    }
  });

  it('gives a clear error for a forced backend that is not available here', () => {
    const gpu = runChild({ SAEBOARD_BACKEND: 'tfjs-node-gpu', CUDA_VISIBLE_DEVICES: '-1' });
    expect(gpu).toMatchObject({ ok: false, name: 'UserInputError', error: 'SAEBOARD_BACKEND=tfjs-node-gpu is not available: no GPU visible' });
    const node = runChild({ SAEBOARD_BACKEND: 'tfjs-node' });
    expect(node).toMatchObject({ ok: false, name: 'UserInputError' });
    expect(node.error).toMatch(/^SAEBOARD_BACKEND=tfjs-node is not available: @tensorflow\/tfjs-node (is not installed|failed to load)/);
    const native = runChild({ SAEBOARD_BACKEND: 'wasm+native', SAEBOARD_NATIVE: 'off' });
    expect(native).toMatchObject({ ok: false, name: 'UserInputError' });
    expect(native.error).toMatch(/wasm\+native is not available: disabled by SAEBOARD_NATIVE=off/);
    const bad = runChild({ SAEBOARD_THREADS: 'many' });
    expect(bad).toMatchObject({ ok: false, name: 'UserInputError', error: 'SAEBOARD_THREADS must be an integer between 1 and 1024, got "many"' });
  });
});
