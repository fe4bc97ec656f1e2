/**
 * Identity by reference on wasm (src/tensor/kernels/identity.ts): clones share the buffer and
 * outlive their source, memory is freed once the last holder is gone, gradients are the same as
 * with tfjs-wasm's copying Identity, and nothing that the fused SAE step writes in place is cloned.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { installSharedIdentity } from '../../src/tensor/kernels/identity.js';
import { gelu, layerNorm } from '../../src/tensor/kernels/ops.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { randomArray } from './reference.js';

// Before collection, so that runIf below sees the backend.
await initBackend();

afterAll(() => {
  if (tf.getBackend() === 'wasm') installSharedIdentity(true); // as initBackend left it
});

const onWasm = () => tf.getBackend() === 'wasm';

describe('Identity on wasm', () => {
  it.runIf(onWasm())('shares the buffer: a clone outlives its source, and the memory goes with the last holder', () => {
    installSharedIdentity(true);
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const buffers0 = backend.numDataIds();
    const x = tf.tensor(randomArray(1000, 1), [10, 100]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    expect(backend.numDataIds() - buffers0).toBe(1); // one buffer for both
    x.dispose();
    expect(y.dataSync()[999]).toBe(randomArray(1000, 1)[999]);
    y.dispose();
    expect(backend.numDataIds()).toBe(buffers0);
    installSharedIdentity(false); // the stock kernel copies
    const a = tf.tensor([1, 2, 3]);
    const b = tf.clone(a);
    expect(b.dataId).not.toBe(a.dataId);
    tf.dispose([a, b]);
    installSharedIdentity(true);
    const s = tf.tensor(['a', 'b']);
    expect(tf.clone(s).dataSync()).toEqual(['a', 'b']); // strings: the stock kernel
  });

  it.runIf(onWasm())('gives the same gradients as the copying kernel, without leaks', () => {
    const x = tf.tensor(randomArray(32 * 24, 2), [32, 24]);
    const w = tf.variable(tf.tensor(randomArray(24 * 48, 3), [24, 48]));
    const g = tf.variable(tf.ones([48]));
    const loss = () => tf.sum(tf.square(layerNorm(gelu(tf.matMul(x, w)), g, undefined))) as tf.Scalar;
    const run = (share: boolean) => {
      installSharedIdentity(share);
      const { value, grads } = tf.variableGrads(loss, [w, g]);
      const out = { loss: value.dataSync()[0], dw: Array.from(grads[w.name].dataSync()), dg: Array.from(grads[g.name].dataSync()) };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    run(true); // warm-up
    const before = tf.memory().numTensors;
    const shared = run(true);
    const copied = run(false);
    expect(tf.memory().numTensors).toBe(before);
    expect(shared).toEqual(copied);
    installSharedIdentity(true);
    tf.dispose([x, w, g]);
  });
});

it('keeps the fused SAE step safe: nothing under src/sae clones a tensor', () => {
  // The native step writes the SAE's parameters and Adam moments in place; a clone sharing one of
  // those buffers would change with it.
  const dir = path.join(PROJECT_ROOT, 'src', 'sae');
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(5);
  const cloning = files.filter((f) => /\.clone\(|tf\.clone\(|\bidentity\(/.test(readFileSync(path.join(dir, f), 'utf8')));
  expect(cloning).toEqual([]);
});
