import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  openSafetensors,
  readSafetensors,
  writeSafetensors,
} from '../../src/util/safetensors.js';
import { decodeNpy, encodeNpy } from '../../src/util/npy.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'saeboard-st-'));

describe('safetensors', () => {
  it('round-trips several dtypes and metadata, with an 8-byte aligned data section', async () => {
    const file = path.join(tmp(), 'x.safetensors');
    const w = new Float32Array([1.5, -2, 3.25, 0, 7, 8]);
    await writeSafetensors(
      file,
      {
        'w.weight': { data: w, shape: [2, 3] },
        ids: { data: new BigInt64Array([1n, -5n]), shape: [2] },
        mask: { data: new Uint8Array([1, 0, 1]), shape: [3], dtype: 'BOOL' },
        half: { data: float32ToFloat16Bits(new Float32Array([0.5, -1])), shape: [2], dtype: 'F16' },
      },
      { format: 'pt', note: 'hello' },
    );
    const bytes = readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const { metadata, tensors } = await readSafetensors(file);
    expect(metadata).toEqual({ format: 'pt', note: 'hello' });
    expect(Array.from(tensors['w.weight'].data as Float32Array)).toEqual(Array.from(w));
    expect(tensors['w.weight'].shape).toEqual([2, 3]);
    expect(Array.from(tensors.ids.data as BigInt64Array)).toEqual([1n, -5n]);
    expect(tensors.mask.dtype).toBe('BOOL');
    expect(Array.from(float16BitsToFloat32(tensors.half.data as Uint16Array))).toEqual([0.5, -1]);
    const lazy = await openSafetensors(file);
    expect(lazy.entries['w.weight']).toEqual({ dtype: 'F32', shape: [2, 3] });
    expect(Array.from((await lazy.read('ids')).data as BigInt64Array)).toEqual([1n, -5n]);
    await lazy.close();
  });

  it('rejects truncated files and wrong shapes with clear errors', async () => {
    const bytes = encodeSafetensors({ a: { data: new Float32Array(16), shape: [4, 4] } });
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4), 'cut.safetensors')).toThrow(/cut.safetensors: tensor a has offsets/);
    expect(() => decodeSafetensors(new Uint8Array(4), 'tiny')).toThrow(/too short/);
    expect(() => encodeSafetensors({ a: { data: new Float32Array(3), shape: [2, 2] } })).toThrow(/shape \[2,2\] has 4 elements but data has 3/);
    await expect(readSafetensors('/nonexistent/file.safetensors')).rejects.toThrow(/cannot read \(ENOENT\)/);
  });

  it('converts float16 exactly for representable values and rounds to nearest even', () => {
    const vals = new Float32Array([0, -0, 1, -2.5, 65504, 6.103515625e-5, 5.960464477539063e-8, 1e9, Number.NaN]);
    const back = float16BitsToFloat32(float32ToFloat16Bits(vals));
    expect(Array.from(back.subarray(0, 7))).toEqual([0, -0, 1, -2.5, 65504, 6.103515625e-5, 5.960464477539063e-8]);
    expect(back[7]).toBe(Number.POSITIVE_INFINITY);
    expect(back[8]).toBeNaN();
    // 1 + 2^-11 is exactly halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
    expect(float16BitsToFloat32(float32ToFloat16Bits(new Float32Array([1 + 2 ** -11])))[0]).toBe(1);
  });

  const numpy = existsSync('/usr/bin/python3') && (() => {
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!numpy)('files are readable from Python (header parsed by hand, data by numpy)', async () => {
    const dir = tmp();
    const file = path.join(dir, 'x.safetensors');
    await writeSafetensors(file, { m: { data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] } });
    const npy = path.join(dir, 'x.npy');
    writeFileSync(npy, encodeNpy(new Int32Array([7, 8, 9, 10]), [2, 2]));
    const script = `
import json, struct, numpy as np, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8+n])
s, e = h['m']['data_offsets']
m = np.frombuffer(b[8+n+s:8+n+e], dtype='<f4').reshape(h['m']['shape'])
a = np.load(sys.argv[2])
print(json.dumps([m.sum().item(), m[1,2].item(), a.dtype.str, list(a.shape), a[1,0].item()]))
`;
    const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, file, npy], { encoding: 'utf8' }));
    expect(out).toEqual([21, 6, '<i4', [2, 2], 9]);
  });
});

describe('npy', () => {
  it('round-trips and pads the header to 64 bytes', () => {
    const bytes = encodeNpy(new Float32Array([1, 2, 3]), [3]);
    expect((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64).toBe(0);
    const { descr, shape, data } = decodeNpy(bytes);
    expect(descr).toBe('<f4');
    expect(shape).toEqual([3]);
    expect(Array.from(data as Float32Array)).toEqual([1, 2, 3]);
    expect(() => decodeNpy(new Uint8Array(16), 'bad.npy')).toThrow(/bad.npy: not a .npy file/);
  });
});
