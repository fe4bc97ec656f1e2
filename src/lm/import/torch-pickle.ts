/**
 * Read PyTorch `.pt` files (torch.save zip format) without Python: a small, non-executing
 * unpickler for the opcode subset torch.save and common checkpoint dicts use (protocols 2–4),
 * with `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter` and `collections.OrderedDict`
 * understood, storages resolved through persistent ids to the zip's `data/<key>` entries.
 * Any other global becomes an inert `PyObject` record; nothing is ever called or imported.
 */
import { readFile } from 'node:fs/promises';
import { UserInputError } from '../../errors.js';
import { bf16BitsToFloat32, float16BitsToFloat32 } from '../../util/safetensors.js';
import { ZipArchive } from './zip.js';

export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An object the unpickler does not model: what would have been called, with what. */
export class PyObject {
  state: unknown = undefined;
  constructor(
    readonly callable: string,
    readonly args: unknown[],
  ) {}
}

export type TorchDtype = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

const STORAGE_DTYPES: Record<string, { dtype: TorchDtype; bytes: number }> = {
  FloatStorage: { dtype: 'float32', bytes: 4 },
  DoubleStorage: { dtype: 'float64', bytes: 8 },
  HalfStorage: { dtype: 'float16', bytes: 2 },
  BFloat16Storage: { dtype: 'bfloat16', bytes: 2 },
  LongStorage: { dtype: 'int64', bytes: 8 },
  IntStorage: { dtype: 'int32', bytes: 4 },
  ShortStorage: { dtype: 'int16', bytes: 2 },
  CharStorage: { dtype: 'int8', bytes: 1 },
  ByteStorage: { dtype: 'uint8', bytes: 1 },
  BoolStorage: { dtype: 'bool', bytes: 1 },
};

export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: TorchDtype,
    readonly bytesPerElement: number,
    readonly numel: number,
  ) {}
}

/** A tensor as pickled: a view (offset, size, stride) into a storage. Materialise with `toFloat32`. */
export class TorchTensor {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
    private readonly archive: TorchArchive,
  ) {}

  get dtype(): TorchDtype {
    return this.storage.dtype;
  }

  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Values as float32, in row-major order of `shape` (strided views are gathered). */
  toFloat32(): Float32Array {
    const flat = this.archive.storageAsFloat64OrFloat32(this.storage);
    const out = new Float32Array(this.numel);
    const rank = this.shape.length;
    const contiguous = this.stride.every((s, i) => s === this.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    if (contiguous) {
      for (let i = 0; i < out.length; i++) out[i] = flat[this.offset + i];
      return out;
    }
    const idx = new Array<number>(rank).fill(0);
    for (let i = 0; i < out.length; i++) {
      let src = this.offset;
      for (let k = 0; k < rank; k++) src += idx[k] * this.stride[k];
      out[i] = flat[src];
      for (let k = rank - 1; k >= 0; k--) {
        if (++idx[k] < this.shape[k]) break;
        idx[k] = 0;
      }
    }
    return out;
  }
}

export class TorchArchive {
  private readonly prefix: string;
  private readonly cache = new Map<string, Float32Array | Float64Array>();

  constructor(
    readonly zip: ZipArchive,
    readonly file: string,
  ) {
    const pkl = zip.names().find((n) => n.endsWith('data.pkl') && n.split('/').length === 2);
    if (!pkl) throw new UserInputError(`${file}: zip has no <name>/data.pkl: not a torch.save checkpoint`);
    this.prefix = pkl.slice(0, -'data.pkl'.length);
  }

  dataPickle(): Uint8Array {
    return this.zip.read(this.prefix + 'data.pkl');
  }

  storageAsFloat64OrFloat32(s: StorageRef): Float32Array | Float64Array {
    const hit = this.cache.get(s.key);
    if (hit) return hit;
    const raw = this.zip.read(`${this.prefix}data/${s.key}`);
    if (raw.byteLength < s.numel * s.bytesPerElement) {
      throw new UserInputError(`${this.file}: storage ${s.key} has ${raw.byteLength} bytes, expected ${s.numel * s.bytesPerElement}`);
    }
    const copy = new Uint8Array(s.numel * s.bytesPerElement);
    copy.set(raw.subarray(0, copy.length));
    const ab = copy.buffer;
    let out: Float32Array | Float64Array;
    switch (s.dtype) {
      case 'float32': out = new Float32Array(ab); break;
      case 'float64': out = new Float64Array(ab); break;
      case 'float16': out = float16BitsToFloat32(new Uint16Array(ab)); break;
      case 'bfloat16': out = bf16BitsToFloat32(new Uint16Array(ab)); break;
      case 'int64': out = Float64Array.from(new BigInt64Array(ab), (x) => Number(x)); break;
      case 'int32': out = Float64Array.from(new Int32Array(ab)); break;
      case 'int16': out = Float64Array.from(new Int16Array(ab)); break;
      case 'int8': out = Float64Array.from(new Int8Array(ab)); break;
      case 'uint8': case 'bool': out = Float64Array.from(copy); break;
    }
    this.cache.set(s.key, out);
    return out;
  }
}

const MARK = Symbol('mark');

export interface UnpickleHooks {
  /** Resolves BINPERSID ids (torch: storages). */
  persistentLoad(pid: unknown): unknown;
  /** Builds a tensor view for `_rebuild_tensor_v2(storage, offset, size, stride, ...)`. */
  rebuildTensor?(storage: StorageRef, offset: number, size: number[], stride: number[]): unknown;
}

/**
 * Unpickle `data` (never executes anything). A malformed stream (reads past the end, opcodes on
 * the wrong kind of object, a short stack) is a UserInputError naming the byte, never a crash.
 */
export function unpickle(data: Uint8Array, hooks: UnpickleHooks, where: string): unknown {
  const at = { p: 0 };
  try {
    return runPickle(data, hooks, where, at);
  } catch (err) {
    if (err instanceof UserInputError) throw err;
    throw new UserInputError(`${where}: cannot unpickle (malformed pickle: ${(err as Error).message} at byte ${at.p})`);
  }
}

function runPickle(data: Uint8Array, hooks: UnpickleHooks, where: string, at: { p: number }): unknown {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let p = 0;
  const fail = (msg: string): never => {
    throw new UserInputError(`${where}: cannot unpickle (${msg} at byte ${p})`);
  };
  const popMark = (): unknown[] => {
    let i = stack.length - 1;
    while (i >= 0 && stack[i] !== MARK) i--;
    if (i < 0) fail('MARK not found');
    const items = stack.splice(i + 1);
    stack.pop();
    return items;
  };
  const readLine = (): string => {
    let e = p;
    while (e < data.length && data[e] !== 0x0a) e++;
    const s = Buffer.from(data.buffer, data.byteOffset + p, e - p).toString('latin1');
    p = e + 1;
    return s;
  };
  const str = (n: number, enc: BufferEncoding = 'utf8') => {
    if (p + n > data.length) fail('string past end');
    const s = Buffer.from(data.buffer, data.byteOffset + p, n).toString(enc);
    p += n;
    return s;
  };
  const top = () => stack[stack.length - 1];
  const setItems = (target: unknown, kv: unknown[]) => {
    if (!(target instanceof Map)) fail('SETITEM(S) on a non-dict');
    for (let i = 0; i < kv.length; i += 2) (target as Map<unknown, unknown>).set(dictKey(kv[i]), kv[i + 1]);
  };
  const reduce = (fn: unknown, args: unknown[]): unknown => {
    if (fn instanceof PyGlobal) {
      switch (fn.qualified) {
        case 'collections.OrderedDict':
        case 'builtins.dict':
          return new Map();
        case 'torch._utils._rebuild_tensor_v2':
        case 'torch._utils._rebuild_tensor': {
          const [storage, offset, size, stride] = args as [StorageRef, number, number[], number[]];
          if (!(storage instanceof StorageRef)) fail('tensor rebuilt from something that is not a storage');
          const counts = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => Number.isSafeInteger(x) && x >= 0);
          if (!Number.isSafeInteger(offset) || offset < 0 || !counts(size) || !counts(stride) || size.length !== stride.length) {
            fail('tensor with a malformed offset, size or stride');
          }
          const last = size.some((n) => n === 0) ? -1 : offset + size.reduce((a, n, i) => a + (n - 1) * stride[i], 0);
          if (last >= storage.numel) fail(`tensor of size [${size.join(', ')}] reaches element ${last} of a storage of ${storage.numel}`);
          if (!hooks.rebuildTensor) fail('tensor found but no tensor storage available');
          return hooks.rebuildTensor!(storage, offset, [...size], [...stride]);
        }
        case 'torch._utils._rebuild_parameter':
        case 'torch._utils._rebuild_parameter_with_state':
          return args[0];
        case 'builtins.set':
        case 'builtins.frozenset':
          return new Set((args[0] as unknown[]) ?? []);
        case '_codecs.encode':
          return Buffer.from(String(args[0]), 'latin1');
      }
      return new PyObject(fn.qualified, args);
    }
    return new PyObject(String(fn), args);
  };

  for (;;) {
    at.p = p;
    if (p >= data.length) fail('unexpected end of pickle');
    const op = data[p++];
    switch (op) {
      case 0x80: p++; break; // PROTO
      case 0x95: p += 8; break; // FRAME
      case 0x2e: { // STOP
        if (stack.length !== 1) fail(`stack has ${stack.length} items at STOP`);
        return stack[0];
      }
      case 0x28: stack.push(MARK); break; // MARK
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([stack.pop()]); break; // TUPLE1
      case 0x86: { const b = stack.pop(); const a = stack.pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = stack.pop(); const b = stack.pop(); const a = stack.pop(); stack.push([a, b, c]); break; }
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x64: { const m = new Map(); setItems(m, popMark()); stack.push(m); break; } // DICT
      case 0x91: stack.push(new Set(popMark())); break; // FROZENSET
      case 0x90: { const items = popMark(); const s = top() as Set<unknown>; items.forEach((x) => s.add(x)); break; } // ADDITEMS
      case 0x71: memo.set(data[p++], top()); break; // BINPUT
      case 0x72: memo.set(dv.getUint32(p, true), top()); p += 4; break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x70: memo.set(Number(readLine()), top()); break; // PUT
      case 0x68: stack.push(memo.get(data[p++])); break; // BINGET
      case 0x6a: stack.push(memo.get(dv.getUint32(p, true))); p += 4; break; // LONG_BINGET
      case 0x67: stack.push(memo.get(Number(readLine()))); break; // GET
      case 0x4a: stack.push(dv.getInt32(p, true)); p += 4; break; // BININT
      case 0x4b: stack.push(data[p++]); break; // BININT1
      case 0x4d: stack.push(dv.getUint16(p, true)); p += 2; break; // BININT2
      case 0x49: { const s = readLine(); stack.push(s === '01' ? true : s === '00' ? false : Number(s)); break; } // INT
      case 0x4c: stack.push(Number(readLine().replace(/L$/, ''))); break; // LONG
      case 0x8a: { // LONG1: little-endian two's complement
        const n = data[p++];
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[p + i]);
        if (n > 0 && data[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        p += n;
        stack.push(Number(v));
        break;
      }
      case 0x47: stack.push(dv.getFloat64(p, false)); p += 8; break; // BINFLOAT (big-endian)
      case 0x46: stack.push(Number(readLine())); break; // FLOAT
      case 0x58: { const n = dv.getUint32(p, true); p += 4; stack.push(str(n)); break; } // BINUNICODE
      case 0x8c: { const n = data[p++]; stack.push(str(n)); break; } // SHORT_BINUNICODE
      case 0x8d: { const n = Number(dv.getBigUint64(p, true)); p += 8; stack.push(str(n)); break; } // BINUNICODE8
      case 0x54: { const n = dv.getInt32(p, true); p += 4; stack.push(str(n, 'latin1')); break; } // BINSTRING
      case 0x55: { const n = data[p++]; stack.push(str(n, 'latin1')); break; } // SHORT_BINSTRING
      case 0x42: { const n = dv.getUint32(p, true); p += 4; stack.push(data.slice(p, p + n)); p += n; break; } // BINBYTES
      case 0x43: { const n = data[p++]; stack.push(data.slice(p, p + n)); p += n; break; } // SHORT_BINBYTES
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x63: { const mod = readLine(); const name = readLine(); stack.push(new PyGlobal(mod, name)); break; } // GLOBAL
      case 0x93: { const name = stack.pop() as string; const mod = stack.pop() as string; stack.push(new PyGlobal(mod, name)); break; } // STACK_GLOBAL
      case 0x52: { const args = stack.pop() as unknown[]; const fn = stack.pop(); stack.push(reduce(fn, args)); break; } // REDUCE
      case 0x81: { const args = stack.pop() as unknown[]; const cls = stack.pop(); stack.push(reduce(cls, args)); break; } // NEWOBJ
      case 0x62: { // BUILD: state for the object below; only records it (OrderedDict _metadata etc.)
        const state = stack.pop();
        const obj = top();
        if (obj instanceof PyObject) obj.state = state;
        break;
      }
      case 0x51: stack.push(hooks.persistentLoad(stack.pop())); break; // BINPERSID
      case 0x73: { const v = stack.pop(); const k = stack.pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x61: { const v = stack.pop(); (top() as unknown[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); (top() as unknown[]).push(...items); break; } // APPENDS
      case 0x30: stack.pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)}`);
    }
  }
}

// Tuple keys (rare) become their JSON text so they can live in a Map.
function dictKey(k: unknown): unknown {
  return Array.isArray(k) ? JSON.stringify(k) : k;
}

/** Load a torch.save file: returns the unpickled root object (tensors as lazy TorchTensor views). */
export async function loadTorchFile(file: string): Promise<unknown> {
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new UserInputError(`${file}: cannot read (${err.code ?? err.message})`);
  });
  return loadTorchBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}

export function loadTorchBytes(bytes: Uint8Array, file: string): unknown {
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    throw new UserInputError(`${file}: legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with a current PyTorch`);
  }
  if (bytes.length < 4 || !(bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    throw new UserInputError(`${file}: not a PyTorch zip checkpoint`);
  }
  const archive = new TorchArchive(new ZipArchive(bytes, file), file);
  const persistentLoad = (pid: unknown): unknown => {
    const t = pid as unknown[];
    if (!Array.isArray(t) || t[0] !== 'storage') throw new UserInputError(`${file}: unknown persistent id ${JSON.stringify(t)}`);
    const [, type, key, , numel] = t as [string, PyGlobal | string, string, string, number];
    const typeName = type instanceof PyGlobal ? type.name : String(type);
    const info = Object.hasOwn(STORAGE_DTYPES, typeName) ? STORAGE_DTYPES[typeName] : undefined;
    if (!info) throw new UserInputError(`${file}: unsupported storage type ${typeName}`);
    if (!Number.isSafeInteger(numel) || numel < 0) throw new UserInputError(`${file}: storage ${String(key)} has a malformed size ${JSON.stringify(numel)}`);
    return new StorageRef(String(key), info.dtype, info.bytes, numel);
  };
  return unpickle(
    archive.dataPickle(),
    { persistentLoad, rebuildTensor: (st, off, size, stride) => new TorchTensor(st, off, size, stride, archive) },
    file,
  );
}

/** Convert Maps (pickled dicts) to plain objects recursively, leaving tensors as they are. */
export function toPlain(x: unknown): unknown {
  if (x instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, v] of x) o[String(k)] = toPlain(v);
    return o;
  }
  if (Array.isArray(x)) return x.map(toPlain);
  return x;
}
