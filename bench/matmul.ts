/**
 * GEMM throughput of the compute backend's matmul kernel sets on the SAE and GPT shapes, next to
 * the machine's sgemm limit measured in the same run (raw OpenBLAS sgemm through the addon on
 * plain Float32Arrays, and numpy via /usr/bin/python3 when present).
 *
 *   npm run bench -- matmul                     # all cases
 *   npm run bench -- matmul --quick             # fewer shapes and reps
 *   npm run bench -- matmul --sets native,js    # kernel sets to time (native, js, stock)
 *   npm run bench -- matmul --reps 7
 *   npm run bench -- matmul --sections gemm,fused,ops   # GEMMs, fused bias+relu, GELU/LayerNorm/Adam
 *
 * Times are per matmul call on the tfjs wasm backend (output allocated, no read-back: wasm kernels
 * run synchronously). GFLOPS = 2·M·N·K / time. Stock wasm is timed only on the small shapes (its
 * transposed forms run at 1–4 GFLOPS). When OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set, the raw
 * sgemm limit is also measured once with them unset (the kernel OpenBLAS would pick itself).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stats, type Bench } from './harness.js';
import { initBackend, tf } from '../src/tensor/backend.js';
import { installMatMulKernels, type MatMulKernelSet } from '../src/tensor/kernels/matmul.js';
import { loadNative, NATIVE_ADDON_PATH, type NativeAddon } from '../src/tensor/kernels/native.js';
import {
  ADAM_KERNEL,
  adamUpdate,
  adamUpdateComposed,
  gelu,
  geluComposed,
  GELU_KERNEL,
  layerNorm,
  layerNormComposed,
} from '../src/tensor/kernels/ops.js';

interface Shape {
  name: string;
  /** Batch count (for attention-style batched GEMMs); 1 = plain 2-D. */
  batch: number;
  M: number;
  N: number;
  K: number;
  trans: [boolean, boolean][];
  /** Small enough for stock wasm. */
  small?: boolean;
}

const ALL_TRANS: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

// d = 512, F = 4096 SAE; nanoGPT 8L/512d GPT (Othello B=8·T=59 = 472 rows; chess B=8·T=1023).
const SHAPES: Shape[] = [
  { name: 'sae B=2048 encoder x·W_enc', batch: 1, M: 2048, N: 4096, K: 512, trans: ALL_TRANS },
  { name: 'sae B=2048 decoder f·W_dec', batch: 1, M: 2048, N: 512, K: 4096, trans: [[false, false], [false, true]] },
  { name: 'sae B=2048 dW_enc = xᵀ·df', batch: 1, M: 512, N: 4096, K: 2048, trans: [[true, false]] },
  { name: 'sae B=8192 encoder', batch: 1, M: 8192, N: 4096, K: 512, trans: [[false, false], [false, true]] },
  { name: 'gpt chess qkv (8184 rows)', batch: 1, M: 8184, N: 1536, K: 512, trans: [[false, false], [true, false]] },
  { name: 'gpt othello mlp up (472 rows)', batch: 1, M: 472, N: 2048, K: 512, trans: [[false, false], [false, true], [true, false]], small: true },
  { name: 'gpt othello attn q·kᵀ (64 heads·batch)', batch: 64, M: 59, N: 59, K: 64, trans: [[false, true], [false, false]], small: true },
  { name: 'gpt chess attn q·kᵀ (64 heads·batch)', batch: 64, M: 1023, N: 1023, K: 64, trans: [[false, true]] },
  { name: 'small 512x1024x512', batch: 1, M: 512, N: 1024, K: 512, trans: ALL_TRANS, small: true },
];
const QUICK = new Set(['sae B=2048 encoder x·W_enc', 'gpt othello mlp up (472 rows)', 'small 512x1024x512']);

const gflops = (s: Shape, ms: number) => (2 * s.batch * s.M * s.N * s.K) / (ms * 1e6);
const transName = ([a, b]: [boolean, boolean]) => `${a ? 'T' : 'N'}${b ? 'T' : 'N'}`;
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Raw OpenBLAS sgemm on Float32Arrays: the addon's own limit for this shape. */
async function rawSgemmMs(h: Bench, addon: NativeAddon, s: Shape, [ta, tb]: [boolean, boolean], reps: number) {
  const A = new Float32Array(s.batch * s.M * s.K).map(() => Math.random() - 0.5);
  const B = new Float32Array(s.batch * s.K * s.N).map(() => Math.random() - 0.5);
  const C = new Float32Array(s.batch * s.M * s.N);
  const aOffs = Float64Array.from({ length: s.batch }, (_, i) => i * s.M * s.K);
  const bOffs = Float64Array.from({ length: s.batch }, (_, i) => i * s.K * s.N);
  return h.time(() => addon.sgemm(ta, tb, s.M, s.N, s.K, A, aOffs, B, bOffs, C, 0), { reps, warmup: 1 });
}

const NUMPY_SCRIPT = `
import json, sys, time, os
import numpy as np
arch = None
try:
    from threadpoolctl import threadpool_info
    arch = [i.get('architecture') for i in threadpool_info() if i.get('internal_api') == 'openblas']
except Exception:
    pass
print(json.dumps({'numpy': np.__version__, 'arch': arch}))
for case in json.loads(sys.argv[1]):
    b, M, N, K, ta, tb, reps = case
    a = np.random.rand(b, K, M) if ta else np.random.rand(b, M, K)
    bb = np.random.rand(b, N, K) if tb else np.random.rand(b, K, N)
    a = a.astype(np.float32); bb = bb.astype(np.float32)
    A = a.transpose(0, 2, 1) if ta else a
    B = bb.transpose(0, 2, 1) if tb else bb
    if b == 1: A, B = A[0], B[0]
    out = np.empty((M, N) if b == 1 else (b, M, N), np.float32)
    np.matmul(A, B, out=out)
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); np.matmul(A, B, out=out); ts.append((time.perf_counter() - t) * 1e3)
    ts.sort()
    print(json.dumps({'case': case, 'min': ts[0], 'median': ts[len(ts) // 2]}))
`;

interface NumpyResult {
  version: string;
  arch: string | null;
  ms: Map<string, { min: number; median: number }>;
}

function numpyTimes(cases: [Shape, [boolean, boolean]][], reps: number, env: NodeJS.ProcessEnv = process.env): NumpyResult | null {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return null;
  const payload = cases.map(([s, [ta, tb]]) => [s.batch, s.M, s.N, s.K, ta, tb, reps]);
  const r = spawnSync(python, ['-c', NUMPY_SCRIPT, JSON.stringify(payload)], { encoding: 'utf8', env, timeout: 600_000 });
  if (r.status !== 0) return null;
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const head = lines.shift() as { numpy: string; arch: string[] | null };
  const ms = new Map<string, { min: number; median: number }>();
  for (const l of lines as { case: unknown[]; min: number; median: number }[]) ms.set(JSON.stringify(l.case.slice(0, 6)), l);
  return { version: head.numpy, arch: head.arch?.join(',') ?? null, ms };
}
const numpyKey = (s: Shape, [ta, tb]: [boolean, boolean]) => JSON.stringify([s.batch, s.M, s.N, s.K, ta, tb]);

function timeTfMatMul(h: Bench, s: Shape, [ta, tb]: [boolean, boolean], reps: number) {
  const lead = s.batch > 1 ? [s.batch] : [];
  const a = tf.randomUniform([...lead, ...(ta ? [s.K, s.M] : [s.M, s.K])], -0.5, 0.5);
  const b = tf.randomUniform([...lead, ...(tb ? [s.N, s.K] : [s.K, s.N])], -0.5, 0.5);
  const result = h.time(() => tf.matMul(a, b, ta, tb).dispose(), { reps, warmup: 1 });
  return result.finally(() => tf.dispose([a, b]));
}

export default async function matmul(h: Bench): Promise<void> {
  const quick = h.args.includes('--quick');
  const reps = Number(h.option('reps', quick ? '3' : '5'));
  const sets = h.option('sets', 'native,js,stock').split(',') as MatMulKernelSet[];
  const sections = new Set(h.option('sections', 'gemm,fused,ops').split(','));
  const info = await initBackend();
  const native = loadNative();
  const addon = native.addon;
  const blas = addon?.info();
  const env = {
    OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? null,
    OPENBLAS_L2_SIZE: process.env.OPENBLAS_L2_SIZE ?? null,
  };
  const shapes = SHAPES.filter((s) => !quick || QUICK.has(s.name));
  const cases: [Shape, [boolean, boolean]][] = !sections.has('gemm') ? [] : shapes.flatMap((s) => s.trans.map((t) => [s, t] as [Shape, [boolean, boolean]]));

  // numpy runs per case, right next to our timings of that case, so load changes on a shared
  // machine affect both alike; this first call only reports the numpy/OpenBLAS versions.
  const numpy = cases.length > 0 ? numpyTimes(cases.slice(0, 1), 1) : null;
  h.record('setup', {
    backend: info,
    blasConfig: blas?.config ?? null,
    blasCore: blas?.corename ?? null,
    blasThreads: blas?.blasThreads ?? null,
    numpy: numpy ? { version: numpy.version, openblasArch: numpy.arch } : null,
    env,
    nativeAddon: addon ? 'built' : (native as { reason: string }).reason,
  });

  for (const [s, t] of cases) {
    const label = `${s.name} ${transName(t)}`;
    const raw = addon ? await rawSgemmMs(h, addon, s, t, reps) : null;
    const np = numpy ? (numpyTimes([[s, t]], reps)?.ms.get(numpyKey(s, t)) ?? null) : null;
    const limitGflops = Math.max(raw ? gflops(s, raw.min) : 0, np ? gflops(s, np.min) : 0) || null;
    for (const set of sets) {
      if (set === 'native' && !addon) continue;
      if (set === 'stock' && !s.small) continue;
      installMatMulKernels(set, addon);
      const st = await timeTfMatMul(h, s, t, set === 'stock' ? Math.min(reps, 3) : reps);
      const g = gflops(s, st.median);
      h.record(label, {
        kernels: set,
        shape: { batch: s.batch, M: s.M, N: s.N, K: s.K, transA: t[0], transB: t[1] },
        msMin: round(st.min, 2),
        msMedian: round(st.median, 2),
        gflopsMedian: round(g),
        gflopsBest: round(gflops(s, st.min)),
        rawSgemmGflopsBest: raw ? round(gflops(s, raw.min)) : null,
        numpyGflopsBest: np ? round(gflops(s, np.min)) : null,
        // this kernel set's best GFLOPS over the best sgemm (raw addon or numpy) on the same shape
        fractionOfLimit: limitGflops ? round(gflops(s, st.min) / limitGflops, 3) : null,
        // and over raw sgemm through the addon alone: the overhead of going through tfjs
        fractionOfRawSgemm: raw ? round(raw.min / st.min, 3) : null,
        blasCore: blas?.corename ?? null,
      });
    }
  }
  // Fused epilogue: the SAE encoder relu(x·W + b), as one kernel call.
  if (sections.has('fused')) {
    const s = SHAPES[0];
    const x = tf.randomUniform([s.M, s.K], -0.5, 0.5) as tf.Tensor2D;
    const w = tf.randomUniform([s.K, s.N], -0.5, 0.5) as tf.Tensor2D;
    const bias = tf.randomUniform([s.N], -0.5, 0.5) as tf.Tensor1D;
    for (const set of sets) {
      if ((set === 'native' && !addon) || set === 'stock') continue;
      installMatMulKernels(set, addon);
      // Interleaved, so load changes on a shared machine hit both variants alike.
      const fusedMs: number[] = [];
      const plainMs: number[] = [];
      for (let i = 0; i <= reps; i++) {
        let t0 = performance.now();
        tf.fused.matMul({ a: x, b: w, bias, activation: 'relu' }).dispose();
        if (i > 0) fusedMs.push(performance.now() - t0);
        t0 = performance.now();
        tf.matMul(x, w).dispose();
        if (i > 0) plainMs.push(performance.now() - t0);
      }
      const fused = stats(fusedMs);
      const plain = stats(plainMs);
      h.record('sae B=2048 encoder fused bias+relu', {
        kernels: set,
        fusedMsMedian: round(fused.median, 2),
        plainMatMulMsMedian: round(plain.median, 2),
        epilogueMs: round(fused.median - plain.median, 2),
        gflopsMedian: round(gflops(s, fused.median)),
      });
    }
    tf.dispose([x, w, bias]);
  }
  installMatMulKernels(info.name === 'wasm+native' ? 'native' : info.name === 'wasm+js' ? 'js' : 'stock', addon);

  // GPT elementwise ops: native GELU/LayerNorm kernels vs the composed tfjs ops (forward, and
  // forward+backward), on the Othello MLP activations and the chess residual stream.
  const opCases: { name: string; shape: [number, number] }[] = !sections.has('ops') ? [] : quick
    ? [{ name: 'othello B=8 mlp 472x2048', shape: [472, 2048] }]
    : [
        { name: 'othello B=8 mlp 472x2048', shape: [472, 2048] },
        { name: 'chess B=8 mlp 8184x2048', shape: [8184, 2048] },
        { name: 'chess B=8 residual 8184x512', shape: [8184, 512] },
      ];
  const haveNativeOps = tf.getKernel(GELU_KERNEL, tf.getBackend()) != null;
  for (const c of opCases) {
    const x = tf.randomNormal(c.shape);
    const gamma = tf.randomNormal([c.shape[1]]);
    const beta = tf.randomNormal([c.shape[1]]);
    const variants: [string, () => void, () => void][] = [
      [
        'gelu',
        () => gelu(x).dispose(),
        () => tf.dispose(tf.grad((t: tf.Tensor) => tf.sum(gelu(t)))(x)),
      ],
      [
        'gelu composed',
        () => geluComposed(x).dispose(),
        () => tf.dispose(tf.grad((t: tf.Tensor) => tf.sum(geluComposed(t)))(x)),
      ],
      [
        'layerNorm',
        () => layerNorm(x, gamma, beta).dispose(),
        () => tf.dispose(tf.grads((t: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(layerNorm(t, g, b)))([x, gamma, beta])),
      ],
      [
        'layerNorm composed',
        () => layerNormComposed(x, gamma, beta).dispose(),
        () =>
          tf.dispose(tf.grads((t: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(layerNormComposed(t, g, b)))([x, gamma, beta])),
      ],
    ];
    for (const [name, forward, backward] of variants) {
      const fwd = await h.time(forward, { reps, warmup: 1 });
      const both = await h.time(backward, { reps, warmup: 1 });
      h.record(`${name} ${c.name}`, {
        implementation: name.endsWith('composed') || !haveNativeOps ? 'composed tfjs ops' : 'native kernel',
        elements: c.shape[0] * c.shape[1],
        forwardMsMedian: round(fwd.median, 2),
        forwardBackwardMsMedian: round(both.median, 2),
      });
    }
    tf.dispose([x, gamma, beta]);
  }

  // Adam step for the SAE's W_enc (512×4096 = 2.1M parameters): native kernel vs composed ops.
  if (sections.has('ops')) {
    const shape = [512, 4096];
    const [p, g, m] = [tf.randomNormal(shape), tf.randomNormal(shape), tf.randomNormal(shape)];
    const v = tf.abs(tf.randomNormal(shape));
    const hyper = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, stepSize: 1e-3, bc2Sqrt: 0.1 };
    for (const [name, update] of [
      ['adam', adamUpdate],
      ['adam composed', adamUpdateComposed],
    ] as const) {
      const st = await h.time(() => {
        const out = update(p, g, m, v, hyper);
        tf.dispose([out.p, out.m, out.v]);
      }, { reps, warmup: 1 });
      h.record(`${name} 512x4096`, {
        implementation: name.endsWith('composed') || !tf.getKernel(ADAM_KERNEL, tf.getBackend()) ? 'composed tfjs ops' : 'native kernel',
        elements: shape[0] * shape[1],
        msMedian: round(st.median, 2),
      });
    }
    tf.dispose([p, g, m, v]);
  }

  // The machine-wide override forces a kernel (e.g. Haswell on AVX-512 hardware): measure the raw
  // limit once more with it unset, in child processes (OpenBLAS reads it when it loads).
  if (sections.has('gemm') && (env.OPENBLAS_CORETYPE || env.OPENBLAS_L2_SIZE)) {
    const childEnv = { ...process.env };
    delete childEnv.OPENBLAS_CORETYPE;
    delete childEnv.OPENBLAS_L2_SIZE;
    const s = SHAPES[0];
    const code = `const a=require(${JSON.stringify(native.addon ? (native as { path: string }).path : NATIVE_ADDON_PATH)});
      const [M,N,K]=[${s.M},${s.N},${s.K}];const A=new Float32Array(M*K).fill(0.5),B=new Float32Array(K*N).fill(0.5),C=new Float32Array(M*N);
      a.sgemm(false,false,M,N,K,A,0,B,0,C,0);const ts=[];for(let i=0;i<${reps};i++){const t=performance.now();a.sgemm(false,false,M,N,K,A,0,B,0,C,0);ts.push(performance.now()-t);}
      console.log(JSON.stringify({core:a.info().corename,min:Math.min(...ts)}));`;
    const r = addon ? spawnSync(process.execPath, ['-e', code], { env: childEnv, encoding: 'utf8' }) : null;
    const unset = r && r.status === 0 ? (JSON.parse(r.stdout) as { core: string; min: number }) : null;
    const npUnset = numpyTimes([[s, [false, false]]], reps, childEnv);
    const npMs = npUnset?.ms.get(numpyKey(s, [false, false]));
    h.record(`${s.name} NN, OPENBLAS_CORETYPE/L2_SIZE unset`, {
      rawSgemmGflopsBest: unset ? round(gflops(s, unset.min)) : null,
      blasCore: unset?.core ?? null,
      numpyGflopsBest: npMs ? round(gflops(s, npMs.min)) : null,
      numpyOpenblasArch: npUnset?.arch ?? null,
      envAsSet: env,
    });
  }
}
