/**
 * Minimal .npy (version 1.0) writer/reader for C-ordered little-endian arrays, so shards can be
 * opened with numpy.load in Python.
 */
import { UserInputError } from '../errors.js';

type NpyArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array;

const DESCR: [new (...a: never[]) => NpyArray, string][] = [
  [Float32Array, '<f4'], [Float64Array, '<f8'], [Int32Array, '<i4'], [Int16Array, '<i2'], [Int8Array, '|i1'],
  [Uint8Array, '|u1'], [Uint16Array, '<u2'], [Uint32Array, '<u4'], [BigInt64Array, '<i8'],
];

export function encodeNpy(data: NpyArray, shape: number[], descrOverride?: string): Uint8Array {
  const entry = DESCR.find(([ctor]) => data instanceof ctor);
  if (!entry) throw new Error('unsupported array type for .npy');
  const descr = descrOverride ?? entry[1];
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

export function decodeNpy(bytes: Uint8Array, file = '<buffer>'): { descr: string; shape: number[]; data: NpyArray } {
  if (bytes[0] !== 0x93 || Buffer.from(bytes.subarray(1, 6)).toString('latin1') !== 'NUMPY') {
    throw new UserInputError(`${file}: not a .npy file`);
  }
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = Buffer.from(bytes.subarray(start, start + hlen)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeTxt = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeTxt === undefined) throw new UserInputError(`${file}: malformed .npy header`);
  if (fortran) throw new UserInputError(`${file}: Fortran-ordered .npy is not supported`);
  const shape = shapeTxt.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const entry = DESCR.find(([, d]) => d === descr || (d === '<f4' && descr === '<f2'));
  if (!entry && descr !== '<f2') throw new UserInputError(`${file}: unsupported dtype ${descr}`);
  const body = bytes.slice(start + hlen);
  const numel = shape.reduce((a, b) => a * b, 1);
  const ctor = descr === '<f2' ? Uint16Array : entry![0];
  const data = new ctor(body.buffer as never, 0 as never, numel as never) as NpyArray;
  return { descr, shape, data };
}
