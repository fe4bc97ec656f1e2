/**
 * GEMM throughput of the compute backend's matmul kernel sets on the SAE and GPT shapes, next to
 * the machine's sgemm limit measured in the same run (raw OpenBLAS sgemm through the addon on
 * plain Float32Arrays, and numpy via /usr/bin/python3 when present).
 *
 *   npm run bench -- matmul                     # all cases
 *   npm run bench -- matmul --quick             # fewer shapes
 *   npm run bench -- matmul --sets native,js    # kernel sets to time (native, js, stock)
 *   npm run bench -- matmul --reps 7            # repetitions per side (default 5)
 *   npm run bench -- matmul --sections gemm,fused,ops   # GEMMs, fused bias+relu, GELU/LayerNorm/Adam
 *
 * Per case, the raw sgemm, numpy (bench/peers/numpy_matmul_peer.py, one matmul per request) and the
 * kernel sets run interleaved (raw, numpy, native, js, stock, raw, …; --reps each after one warm-up
 * round): every record has median/min/spread of its set and of both limits, ratios of the medians
 * and the load fields. So do the fused-epilogue and GELU/LayerNorm/Adam cases (native kernel and
 * composed ops interleaved).
 *
 * Times are per matmul call on the tfjs wasm backend (output allocated, no read-back: wasm kernels
 * run synchronously). GFLOPS = 2·M·N·K / time. Stock wasm is timed only on the small shapes (its
 * transposed forms run at 1–4 GFLOPS). When OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set, the raw
 * sgemm limit is also measured once with them unset (the kernel OpenBLAS would pick itself).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { COMPARE_REPS, loadFields, sideSummary, type Bench, type Side, type SideStats } from './harness.js';
import { PeerProcess, startPythonPeer } from './lib/peer.js';
import { PROJECT_ROOT } from '../src/version.js';
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

/** Raw OpenBLAS sgemm on Float32Arrays: the addon's own limit for this shape (a compare side). */
function rawSgemmSide(addon: NativeAddon, s: Shape, [ta, tb]: [boolean, boolean]): Side {
  const A = new Float32Array(s.batch * s.M * s.K).map(() => Math.random() - 0.5);
  const B = new Float32Array(s.batch * s.K * s.N).map(() => Math.random() - 0.5);
  const C = new Float32Array(s.batch * s.M * s.N);
  const aOffs = Float64Array.from({ length: s.batch }, (_, i) => i * s.M * s.K);
  const bOffs = Float64Array.from({ length: s.batch }, (_, i) => i * s.K * s.N);
  return { name: 'raw-sgemm', step: () => void addon.sgemm(ta, tb, s.M, s.N, s.K, A, aOffs, B, bOffs, C, 0) };
}

const NUMPY_PEER = path.join(PROJECT_ROOT, 'bench', 'peers', 'numpy_matmul_peer.py');

/** numpy's matmul in a peer process (bench/peers/numpy_matmul_peer.py), or null without numpy. */
async function startNumpy(env?: NodeJS.ProcessEnv): Promise<{ peer: PeerProcess; version: string; arch: string | null } | null> {
  if (!existsSync('/usr/bin/python3')) return null;
  const peer = env ? new PeerProcess('/usr/bin/python3', [NUMPY_PEER, '--serve'], env) : (await startPythonPeer(NUMPY_PEER)).peer;
  if (!peer) return null;
  try {
      const hello = (await peer.request({ hello: true })) as { numpy: string; arch: string[] | null };
      return { peer, version: hello.numpy, arch: hello.arch?.join(',') ?? null };
    } catch {
      await peer.close().catch(() => undefined);
      return null;
    }
  }

  const shapeCase = (s: Shape, [ta, tb]: [boolean, boolean]) => ({ batch: s.batch, M: s.M, N: s.N, K: s.K, transA: ta, transB: tb });

  /** One tfjs matmul with kernel set `set` installed, timed without the (re)installation. */
  function tfSide(set: MatMulKernelSet, addon: NativeAddon | null, a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): Side {
    return {
      name: set,
      step: () => {
        installMatMulKernels(set, addon);
        const t0 = performance.now();
        tf.matMul(a, b, ta, tb).dispose();
        return performance.now() - t0;
      },
    };
  }

  /** Interleaves the sides (A, B, C, A, B, C, …) when there are several, else times the one. */
  async function compareOrTime(h: Bench, sides: Side[], reps: number): Promise<{ sides: Record<string, SideStats>; load: Record<string, unknown>; order: string }> {
    if (sides.length > 1) {
      const cmp = await h.compare(sides, { reps, warmup: 1 });
      return { sides: cmp.sides, load: loadFields(cmp), order: 'interleaved' };
    }
    return { sides: { [sides[0].name]: await h.time(sides[0].step, { reps, warmup: 1 }) }, load: {}, order: 'alone' };
  }

  export default async function matmul(h: Bench): Promise<void> {
    const quick = h.args.includes('--quick');
    const reps = Number(h.option('reps', String(COMPARE_REPS)));
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

    // numpy runs as a peer process driven one matmul at a time: per case, the raw addon sgemm, numpy
    // and the kernel sets run interleaved (A, B, C, …, reps each), so load changes on a shared
    // machine affect all of them alike.
    const numpy = cases.length > 0 ? await startNumpy() : null;
    try {
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
      const lead = s.batch > 1 ? [s.batch] : [];
      const a = tf.randomUniform([...lead, ...(t[0] ? [s.K, s.M] : [s.M, s.K])], -0.5, 0.5);
      const b = tf.randomUniform([...lead, ...(t[1] ? [s.N, s.K] : [s.K, s.N])], -0.5, 0.5);
      const sides: Side[] = [];
      if (addon) sides.push(rawSgemmSide(addon, s, t));
      if (numpy) {
        await numpy.peer.setup(shapeCase(s, t));
        sides.push({ name: 'numpy', step: () => numpy.peer.step() });
      }
      // stock wasm only on the small shapes (its transposed forms run at 1–4 GFLOPS)
      const timedSets = sets.filter((set) => !(set === 'native' && !addon) && !(set === 'stock' && !s.small));
      for (const set of timedSets) sides.push(tfSide(set, addon, a, b, t[0], t[1]));
      const cmp = await compareOrTime(h, sides, reps);
      tf.dispose([a, b]);
      const raw = cmp.sides['raw-sgemm'] ?? null;
      const np = cmp.sides.numpy ?? null;
      const limitGflops = Math.max(raw ? gflops(s, raw.min) : 0, np ? gflops(s, np.min) : 0) || null;
      for (const set of timedSets) {
        const st = cmp.sides[set];
        const g = gflops(s, st.median);
        h.record(label, {
          kernels: set,
          shape: { batch: s.batch, M: s.M, N: s.N, K: s.K, transA: t[0], transB: t[1] },
          msMin: round(st.min, 2),
          msMedian: round(st.median, 2),
          spread: st.spread,
          reps: st.reps,
          gflopsMedian: round(g),
          gflopsBest: round(gflops(s, st.min)),
          rawSgemm: raw ? { ...sideSummary(raw), gflopsMedian: round(gflops(s, raw.median)) } : null,
          numpy: np ? { ...sideSummary(np), gflopsMedian: round(gflops(s, np.median)) } : null,
          rawSgemmGflopsBest: raw ? round(gflops(s, raw.min)) : null,
          numpyGflopsBest: np ? round(gflops(s, np.min)) : null,
          // this kernel set's best GFLOPS over the best sgemm (raw addon or numpy) on the same shape
          fractionOfLimit: limitGflops ? round(gflops(s, st.min) / limitGflops, 3) : null,
          // and over raw sgemm through the addon alone: the overhead of going through tfjs
          fractionOfRawSgemm: raw ? round(raw.min / st.min, 3) : null,
          // ratio of the medians, same run: > 1 means this set is faster than the other
          ...(raw ? { vsRawSgemmMedian: round(raw.median / st.median, 3) } : {}),
          ...(np ? { vsNumpyMedian: round(np.median / st.median, 3) } : {}),
          ...(set !== 'native' && cmp.sides.native ? { vsNativeMedian: round(cmp.sides.native.median / st.median, 3) } : {}),
          order: cmp.order,
          blasCore: blas?.corename ?? null,
          ...cmp.load,
        });
      }
    }
  } finally {
    await numpy?.peer.close();
  }
  // Fused epilogue: the SAE encoder relu(x·W + b), as one kernel call, against the plain matmul;
  // every set's fused and plain calls interleaved.
  if (sections.has('fused')) {
    const s = SHAPES[0];
    const x = tf.randomUniform([s.M, s.K], -0.5, 0.5) as tf.Tensor2D;
    const w = tf.randomUniform([s.K, s.N], -0.5, 0.5) as tf.Tensor2D;
    const bias = tf.randomUniform([s.N], -0.5, 0.5) as tf.Tensor1D;
    const fusedSets = sets.filter((set) => !(set === 'native' && !addon) && set !== 'stock');
    const timed = (set: MatMulKernelSet, fn: () => void): (() => number) => () => {
      installMatMulKernels(set, addon);
      const t0 = performance.now();
      fn();
      return performance.now() - t0;
    };
    const sides = fusedSets.flatMap((set): Side[] => [
      { name: `${set} fused`, step: timed(set, () => tf.fused.matMul({ a: x, b: w, bias, activation: 'relu' }).dispose()) },
      { name: `${set} plain`, step: timed(set, () => tf.matMul(x, w).dispose()) },
    ]);
    if (sides.length > 0) {
      const cmp = await compareOrTime(h, sides, reps);
      for (const set of fusedSets) {
        const fused = cmp.sides[`${set} fused`];
        const plain = cmp.sides[`${set} plain`];
        h.record('sae B=2048 encoder fused bias+relu', {
          kernels: set,
          fusedMsMedian: round(fused.median, 2),
          plainMatMulMsMedian: round(plain.median, 2),
          epilogueMs: round(fused.median - plain.median, 2),
          gflopsMedian: round(gflops(s, fused.median)),
          fused: sideSummary(fused),
          plain: sideSummary(plain),
          order: cmp.order,
          ...cmp.load,
        });
      }
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
  const implementation = (name: string, kernel: string) => (name.endsWith('composed') || !tf.getKernel(kernel, tf.getBackend()) ? 'composed tfjs ops' : 'native kernel');
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
    // each op's native kernel and its composed form interleaved, forward and forward+backward
    for (const pair of [variants.slice(0, 2), variants.slice(2, 4)]) {
      const cmp = await compareOrTime(
        h,
        pair.flatMap(([name, forward, backward]): Side[] => [
          { name: `${name} forward`, step: forward },
          { name: `${name} forward+backward`, step: backward },
        ]),
        reps,
      );
      for (const [name] of pair) {
        const fwd = cmp.sides[`${name} forward`];
        const both = cmp.sides[`${name} forward+backward`];
        h.record(`${name} ${c.name}`, {
          implementation: name.endsWith('composed') || !haveNativeOps ? 'composed tfjs ops' : 'native kernel',
          elements: c.shape[0] * c.shape[1],
          forwardMsMedian: round(fwd.median, 2),
          forwardBackwardMsMedian: round(both.median, 2),
          forward: sideSummary(fwd),
          forwardBackward: sideSummary(both),
          order: cmp.order,
          ...cmp.load,
        });
      }
    }
    tf.dispose([x, gamma, beta]);
  }

  // Adam step for the SAE's W_enc (512×4096 = 2.1M parameters): native kernel vs composed ops, interleaved.
  if (sections.has('ops')) {
    const shape = [512, 4096];
    const [p, g, m] = [tf.randomNormal(shape), tf.randomNormal(shape), tf.randomNormal(shape)];
    const v = tf.abs(tf.randomNormal(shape));
    const hyper = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, stepSize: 1e-3, bc2Sqrt: 0.1 };
    const variants = [
      ['adam', adamUpdate],
      ['adam composed', adamUpdateComposed],
    ] as const;
    const cmp = await compareOrTime(
      h,
      variants.map(([name, update]) => ({
        name,
        step: () => {
          const out = update(p, g, m, v, hyper);
          tf.dispose([out.p, out.m, out.v]);
        },
      })),
      reps,
    );
    for (const [name] of variants) {
      const st = cmp.sides[name];
      h.record(`${name} 512x4096`, {
        implementation: implementation(name, ADAM_KERNEL),
        elements: shape[0] * shape[1],
        ...sideSummary(st),
        msMedian: round(st.median, 2),
        // ratio of the medians, same run: > 1 means this variant is faster than the native kernel
        ...(name === 'adam composed' && cmp.sides.adam ? { vsNativeMedian: round(cmp.sides.adam.median / st.median, 3) } : {}),
        order: cmp.order,
        ...cmp.load,
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
    const npUnset = await startNumpy(childEnv);
    let npMin = Infinity;
    if (npUnset) {
      try {
        await npUnset.peer.setup(shapeCase(s, [false, false]));
        await npUnset.peer.step();
        for (let i = 0; i < reps; i++) npMin = Math.min(npMin, await npUnset.peer.step());
      } finally {
        await npUnset.peer.close();
      }
    }
    const npMs = Number.isFinite(npMin) ? { min: npMin } : null;
    h.record(`${s.name} NN, OPENBLAS_CORETYPE/L2_SIZE unset`, {
      rawSgemmGflopsBest: unset ? round(gflops(s, unset.min)) : null,
      blasCore: unset?.core ?? null,
      numpyGflopsBest: npMs ? round(gflops(s, npMs.min)) : null,
      numpyOpenblasArch: npUnset?.arch ?? null,
      envAsSet: env,
    });
  }
}
