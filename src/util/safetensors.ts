/**
 * safetensors reader/writer (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON {name: {dtype, shape, data_offsets}, __metadata__?}, then the raw
 * little-endian row-major tensor bytes. No maintained npm package reads local files, and the format
 * is small, so it lives here. F16/BF16 stay as raw Uint16Array bits (Node 20 has no Float16Array).
 */
import { promises as fs } from 'node:fs';
import { UserInputError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL' | 'U16' | 'U32';

export type TensorData =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint32Array;

export interface NamedTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

interface HeaderEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data_offsets: [number, number];
}

const BYTES: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, U16: 2, U32: 4,
};

const MAX_HEADER = 100 * 1024 * 1024;

export function dtypeOf(data: TensorData): SafetensorsDtype {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof Int8Array) return 'I8';
  if (data instanceof Uint8Array) return 'U8';
  if (data instanceof Uint32Array) return 'U32';
  if (data instanceof Uint16Array) return 'F16';
  throw new Error('unsupported typed array');
}

function view(dtype: SafetensorsDtype, buf: Uint8Array): TensorData {
  // Copy into an aligned buffer: typed arrays need offsets that are multiples of their element size.
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  const ab = copy.buffer;
  switch (dtype) {
    case 'F64': return new Float64Array(ab);
    case 'F32': return new Float32Array(ab);
    case 'F16': case 'BF16': case 'U16': return new Uint16Array(ab);
    case 'I64': return new BigInt64Array(ab);
    case 'I32': return new Int32Array(ab);
    case 'U32': return new Uint32Array(ab);
    case 'I16': return new Int16Array(ab);
    case 'I8': return new Int8Array(ab);
    case 'U8': case 'BOOL': return copy;
  }
}

export function encodeSafetensors(
  tensors: Record<string, { data: TensorData; shape: number[]; dtype?: SafetensorsDtype }>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const dtype = t.dtype ?? dtypeOf(t.data);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) {
      throw new UserInputError(`tensor ${name}: shape [${t.shape}] has ${numel} elements but data has ${t.data.length}`);
    }
    if (BYTES[dtype] !== t.data.BYTES_PER_ELEMENT) {
      throw new UserInputError(`tensor ${name}: dtype ${dtype} does not match its ${t.data.constructor.name}`);
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  const pad = (8 - ((Buffer.byteLength(json) + 8) % 8)) % 8; // data section 8-byte aligned
  json += ' '.repeat(pad);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

export async function writeSafetensors(
  file: string,
  tensors: Record<string, { data: TensorData; shape: number[]; dtype?: SafetensorsDtype }>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  entries: Record<string, { dtype: SafetensorsDtype; shape: number[] }>;
  /** Read one tensor from disk (only its bytes). */
  read(name: string): Promise<NamedTensor>;
  close(): Promise<void>;
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function parseHeader(file: string, json: string, dataBytes: number): { metadata: Record<string, string>; entries: Record<string, HeaderEntry> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new UserInputError(`${file}: not a safetensors file (header is not JSON)`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UserInputError(`${file}: not a safetensors file (header is not a JSON object)`);
  const { __metadata__: rawMeta = {}, ...tensors } = parsed as Record<string, unknown>;
  if (!rawMeta || typeof rawMeta !== 'object' || Array.isArray(rawMeta) || !Object.values(rawMeta).every((v) => typeof v === 'string')) {
    throw new UserInputError(`${file}: malformed safetensors header (__metadata__ must map names to strings)`);
  }
  const metadata = rawMeta as Record<string, string>;
  const entries: Record<string, HeaderEntry> = {};
  for (const [name, raw] of Object.entries(tensors)) {
    const e = raw as HeaderEntry;
    if (
      !e ||
      typeof e !== 'object' ||
      typeof e.dtype !== 'string' ||
      !Object.hasOwn(BYTES, e.dtype) ||
      !Array.isArray(e.shape) ||
      !e.shape.every(isCount) ||
      !Array.isArray(e.data_offsets) ||
      e.data_offsets.length !== 2 ||
      !e.data_offsets.every(isCount)
    ) {
      throw new UserInputError(`${file}: tensor ${name} has a malformed header entry`);
    }
    const [b, en] = e.data_offsets;
    const numel = e.shape.reduce((a, c) => a * c, 1);
    if (en - b !== numel * BYTES[e.dtype] || en > dataBytes) {
      throw new UserInputError(`${file}: tensor ${name} has offsets [${b}, ${en}] inconsistent with shape [${e.shape}] ${e.dtype} (file truncated?)`);
    }
    entries[name] = e;
  }
  return { metadata, entries };
}

export async function openSafetensors(file: string): Promise<SafetensorsFile> {
  const handle = await fs.open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new UserInputError(`${file}: cannot open (${err.code ?? err.message})`);
  });
  try {
    const size = (await handle.stat()).size;
    if (size < 8) throw new UserInputError(`${file}: not a safetensors file (too short)`);
    const lenBuf = Buffer.alloc(8);
    await handle.read(lenBuf, 0, 8, 0);
    const n = Number(lenBuf.readBigUInt64LE(0));
    if (n > MAX_HEADER || 8 + n > size) throw new UserInputError(`${file}: not a safetensors file (bad header length ${n})`);
    const hb = Buffer.alloc(n);
    await handle.read(hb, 0, n, 8);
    const { metadata, entries } = parseHeader(file, hb.toString('utf8'), size - 8 - n);
    const base = 8 + n;
    return {
      metadata,
      entries: Object.fromEntries(Object.entries(entries).map(([k, e]) => [k, { dtype: e.dtype, shape: e.shape }])),
      async read(name: string) {
        const e = entries[name];
        if (!e) throw new UserInputError(`${file}: no tensor named ${name}`);
        const [b, en] = e.data_offsets;
        const buf = new Uint8Array(en - b);
        await handle.read(buf, 0, en - b, base + b);
        return { dtype: e.dtype, shape: e.shape, data: view(e.dtype, buf) };
      },
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Parse a whole safetensors image held in memory. */
export function decodeSafetensors(bytes: Uint8Array, file = '<buffer>'): { metadata: Record<string, string>; tensors: Record<string, NamedTensor> } {
  if (bytes.byteLength < 8) throw new UserInputError(`${file}: not a safetensors file (too short)`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > bytes.byteLength) throw new UserInputError(`${file}: not a safetensors file (bad header length ${n})`);
  const json = Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8');
  const { metadata, entries } = parseHeader(file, json, bytes.byteLength - 8 - n);
  const tensors: Record<string, NamedTensor> = {};
  for (const [name, e] of Object.entries(entries)) {
    const [b, en] = e.data_offsets;
    tensors[name] = { dtype: e.dtype, shape: e.shape, data: view(e.dtype, bytes.subarray(8 + n + b, 8 + n + en)) };
  }
  return { metadata, tensors };
}

export async function readSafetensors(file: string): Promise<{ metadata: Record<string, string>; tensors: Record<string, NamedTensor> }> {
  const bytes = await fs.readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new UserInputError(`${file}: cannot read (${err.code ?? err.message})`);
  });
  return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}

/** IEEE half <-> float conversions for F16 storage of activations. */
export function float32ToFloat16Bits(src: Float32Array, dst = new Uint16Array(src.length)): Uint16Array {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < src.length; i++) {
    f[0] = src[i];
    const x = u[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      dst[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    let e = exp - 127 + 15;
    if (e >= 0x1f) {
      dst[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        dst[i] = sign;
      } else {
        mant |= 0x800000;
        const shift = 14 - e;
        let half = mant >>> shift;
        const rem = mant & ((1 << shift) - 1);
        const mid = 1 << (shift - 1);
        if (rem > mid || (rem === mid && (half & 1))) half++;
        dst[i] = sign | half;
      }
    } else {
      let half = (e << 10) | (mant >>> 13);
      const rem = mant & 0x1fff;
      if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
      dst[i] = sign | half;
    }
  }
  return dst;
}

export function float16BitsToFloat32(src: Uint16Array, dst = new Float32Array(src.length)): Float32Array {
  for (let i = 0; i < src.length; i++) {
    const h = src[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) dst[i] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) dst[i] = mant ? NaN : sign * Infinity;
    else dst[i] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return dst;
}

export function bf16BitsToFloat32(src: Uint16Array, dst = new Float32Array(src.length)): Float32Array {
  const u = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) u[i] = src[i] << 16;
  return dst;
}

/** Any floating tensor as Float32Array. */
export function toFloat32(t: NamedTensor): Float32Array {
  switch (t.dtype) {
    case 'F32': return t.data as Float32Array;
    case 'F64': return Float32Array.from(t.data as Float64Array);
    case 'F16': return float16BitsToFloat32(t.data as Uint16Array);
    case 'BF16': return bf16BitsToFloat32(t.data as Uint16Array);
    default: throw new UserInputError(`expected a floating-point tensor, got ${t.dtype}`);
  }
}
