/**
 * Checks that saeboard computes the same logits as the PyTorch model of
 * scripts/gpu/train_othello_lm.py for a model directory that script wrote:
 *
 *   python3 scripts/gpu/train_othello_lm.py --device cpu --parity MODEL_DIR --parity-out /tmp/parity.json
 *   npx tsx scripts/gpu/check-parity.ts MODEL_DIR /tmp/parity.json [tolerance = 1e-4]
 *
 * PyTorch reads the same model.safetensors (F16 or F32, widened to float32) and runs its forward
 * pass in float32 on 6 fresh games; saeboard loads the directory with loadModelDir and runs its own.
 * Exit 1 when the largest absolute logit difference exceeds the tolerance.
 */
import { readFileSync } from 'node:fs';
import { initBackend } from '../../src/tensor/backend.js';
import { loadModelDir } from '../../src/lm/checkpoint.js';

const [dir, parityFile, tolText] = process.argv.slice(2);
if (!dir || !parityFile) throw new Error('usage: check-parity.ts MODEL_DIR PARITY.json [tolerance]');
const tolerance = Number(tolText ?? '1e-4');
const info = await initBackend();
const ref = JSON.parse(readFileSync(parityFile, 'utf8')) as { tokens: number[][]; logits: number[]; shape: [number, number, number] };
const { model } = await loadModelDir(dir);
const [B, T] = ref.shape;
const logits = model.logits(Int32Array.from(ref.tokens.flat()), B, T);
const ours = (await logits.data()) as Float32Array;
logits.dispose();
let maxDiff = 0;
let maxAbs = 0;
for (let i = 0; i < ours.length; i++) {
  maxDiff = Math.max(maxDiff, Math.abs(ours[i] - ref.logits[i]));
  maxAbs = Math.max(maxAbs, Math.abs(ref.logits[i]));
}
console.log(JSON.stringify({ dir, backend: info.name, logits: ref.shape, maxAbsDiff: maxDiff, maxAbsLogit: maxAbs, tolerance }));
model.dispose();
if (!(ours.length === ref.logits.length && maxDiff <= tolerance)) {
  console.error(`parity FAILED: saeboard and PyTorch logits differ by ${maxDiff}`);
  process.exit(1);
}
console.log('parity OK');
