/**
 * An SAE step in a child process with its own environment, as a side of bench/sae-step:
 *   --no-addon  SAEBOARD_NATIVE=off: initBackend picks wasm+js (large matmuls on the worker pool)
 *               and the SAE step is the tfjs engine — what an install gets with no compiler and no
 *               usable prebuilt addon;
 *   --prebuilt  SAEBOARD_PREBUILT=only: the committed prebuilt addons (own SGEMM) instead of the
 *               local build — what an install without a C compiler gets on linux-x64.
 * Driven one step at a time over JSON lines (bench/lib/peer.ts), so the bench interleaves it with
 * the in-process engines.
 */
import { createInterface } from 'node:readline';
import { backendInfo, initBackend, tf } from '../../src/tensor/backend.js';
import { Rng } from '../../src/sae/rng.js';
import { createTrainer } from '../../src/sae/trainers/index.js';
import type { Trainer } from '../../src/sae/trainer.js';
import { sparseDictionary, trainerConfig } from '../sae-step.js';

const out = (msg: Record<string, unknown>) => process.stdout.write(JSON.stringify(msg) + '\n');

await initBackend();
let trainer: Trainer | null = null;
let x: tf.Tensor2D | null = null;
for await (const line of createInterface({ input: process.stdin })) {
  try {
    const msg = JSON.parse(line) as { setup?: { trainer: string; B: number; d: number; F: number; l0?: number }; step?: boolean };
    if (msg.setup) {
      trainer?.dispose();
      x?.dispose();
      const { trainer: name, B, d, F, l0 } = msg.setup;
      x = tf.tensor2d(new Rng(1).fillNormal(new Float32Array(B * d)), [B, d]);
      const cfg = trainerConfig(name, B, d, F);
      trainer = createTrainer(cfg, l0 === undefined ? undefined : sparseDictionary(cfg, x, l0));
      const info = backendInfo();
      out({ ready: true, backend: info?.name, kernels: info?.kernels, detail: info?.detail, threads: info?.threads });
    } else if (msg.step) {
      if (!trainer || !x) throw new Error('step before setup');
      const t0 = performance.now();
      await trainer.update(x);
      out({ ms: performance.now() - t0 });
    } else {
      throw new Error(`unknown request ${line.slice(0, 100)}`);
    }
  } catch (err) {
    out({ error: (err as Error).message });
  }
}
