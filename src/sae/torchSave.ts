/**
 * A minimal `torch.save` writer for state dicts (an OrderedDict of float32 / int32 tensors), so
 * SAEs trained here can be loaded by dictionary_learning's `from_pretrained` (`torch.load`), with
 * `weights_only=True` too: the pickle only references `collections.OrderedDict`,
 * `torch._utils._rebuild_tensor_v2` and the storage classes.
 *
 * Format (torch ≥ 1.6 zip serialization): a stored (uncompressed) zip with
 *   <name>/data.pkl   pickle protocol 2 of the state dict; tensors are
 *                     _rebuild_tensor_v2(persistent_id(('storage', FloatStorage, key, 'cpu', numel)),
 *                     offset 0, size, stride, requires_grad False, OrderedDict())
 *   <name>/data/<key> raw little-endian storage bytes (64-byte aligned, as PyTorch writes them)
 *   <name>/version    "3\n"
 * Reading uses the LM area's non-executing unpickler (src/lm/import/torch-pickle.ts).
 */
import { crc32 } from 'node:zlib';

export interface TorchTensorOut {
  data: Float32Array | Int32Array;
  shape: number[];
}

class Pickler {
  private readonly parts: Buffer[] = [];
  private memo = 0;
  op(...bytes: number[]) {
    this.parts.push(Buffer.from(bytes));
  }
  raw(b: Buffer) {
    this.parts.push(b);
  }
  global(module: string, name: string) {
    this.raw(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    this.op(0x58); // BINUNICODE
    this.raw(len);
    this.raw(b);
  }
  int(n: number) {
    if (n >= 0 && n < 256) this.op(0x4b, n); // BININT1
    else {
      const b = Buffer.alloc(4);
      b.writeInt32LE(n);
      this.op(0x4a); // BININT
      this.raw(b);
    }
  }
  put() {
    // BINPUT keeps pickletools-equivalent output; LONG_BINPUT beyond 255 entries
    if (this.memo < 256) this.op(0x71, this.memo);
    else {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(this.memo);
      this.op(0x72);
      this.raw(b);
    }
    this.memo++;
  }
  tuple(items: (() => void)[]) {
    if (items.length === 0) return this.op(0x29); // EMPTY_TUPLE
    this.op(0x28); // MARK
    for (const f of items) f();
    this.op(0x74); // TUPLE
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function storageName(data: Float32Array | Int32Array): string {
  return data instanceof Int32Array ? 'IntStorage' : 'FloatStorage';
}

/** Pickle bytes of the state dict; storages are keys "0", "1", ... in insertion order. */
export function pickleStateDict(tensors: [string, TorchTensorOut][]): Buffer {
  const p = new Pickler();
  p.op(0x80, 2); // PROTO 2
  p.global('collections', 'OrderedDict');
  p.put();
  p.op(0x29, 0x52); // EMPTY_TUPLE, REDUCE → OrderedDict()
  p.put();
  p.op(0x28); // MARK for SETITEMS
  tensors.forEach(([name, t], i) => {
    p.str(name);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.op(0x28); // MARK for the args tuple
    // persistent id ('storage', <StorageClass>, key, 'cpu', numel)
    p.tuple([
      () => p.str('storage'),
      () => p.global('torch', storageName(t.data)),
      () => p.str(String(i)),
      () => p.str('cpu'),
      () => p.int(t.data.length),
    ]);
    p.op(0x51); // BINPERSID
    p.int(0); // storage offset
    p.tuple(t.shape.map((s) => () => p.int(s)));
    const stride = t.shape.map((_, k) => t.shape.slice(k + 1).reduce((a, b) => a * b, 1));
    p.tuple(stride.map((s) => () => p.int(s)));
    p.op(0x89); // NEWFALSE (requires_grad)
    p.global('collections', 'OrderedDict');
    p.op(0x29, 0x52); // OrderedDict() backward hooks
    p.op(0x74); // TUPLE (closes the MARK above)
    p.op(0x52); // REDUCE → tensor
  });
  p.op(0x75); // SETITEMS
  p.op(0x2e); // STOP
  return p.bytes();
}

interface ZipFile {
  name: string;
  data: Buffer;
}

/** A stored zip whose entry data start 64-byte aligned (padding in the local extra field). */
export function storedZip(files: ZipFile[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const crc = crc32(f.data) >>> 0;
    const headerLen = 30 + name.length;
    // extra field: id 0x4246 ("FB"), length, zero padding up to the next 64-byte boundary
    let pad = (64 - ((offset + headerLen + 4) % 64)) % 64;
    const extra = Buffer.alloc(4 + pad);
    extra.writeUInt16LE(0x4246, 0);
    extra.writeUInt16LE(pad, 2);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(f.data.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    locals.push(local, name, extra, f.data);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(f.data.length, 20);
    central.writeUInt32LE(f.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attrs
    central.writeUInt32LE(0, 38); // external attrs
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += headerLen + extra.length + f.data.length;
    pad = 0;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** torch.save(OrderedDict(tensors)) as bytes; `archive` is the zip's top folder (torch uses the file stem). */
export function torchSaveStateDict(tensors: [string, TorchTensorOut][], archive = 'ae'): Buffer {
  const files: ZipFile[] = [{ name: `${archive}/data.pkl`, data: pickleStateDict(tensors) }];
  tensors.forEach(([, t], i) => {
    files.push({ name: `${archive}/data/${i}`, data: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength) });
  });
  files.push({ name: `${archive}/version`, data: Buffer.from('3\n') });
  return storedZip(files);
}
