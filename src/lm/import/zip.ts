/**
 * Minimal ZIP reader for PyTorch checkpoints (torch.save writes an uncompressed zip: data.pkl +
 * data/<key> storages). Reads the central directory (ZIP64 included, for > 4 GiB files) and returns
 * entries stored (method 0) or deflated (method 8).
 */
import { inflateRawSync } from 'node:zlib';
import { UserInputError, oneLine } from '../../errors.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();

  constructor(
    private readonly buf: Uint8Array,
    private readonly file: string,
  ) {
    try {
      this.readDirectory();
    } catch (err) {
      throw corrupt(err, file);
    }
  }

  private readDirectory(): void {
    const { buf, file } = this;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    // End of central directory: scan back over a possible comment (≤ 65535 bytes).
    let eocd = -1;
    for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
      if (dv.getUint32(i, true) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new UserInputError(`${file}: not a zip archive (no end-of-central-directory record)`);
    let count = dv.getUint16(eocd + 10, true);
    let cdOffset = dv.getUint32(eocd + 16, true);
    if (cdOffset === 0xffffffff || count === 0xffff) {
      const loc = eocd - 20;
      if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) throw new UserInputError(`${file}: broken ZIP64 locator`);
      const z64 = Number(dv.getBigUint64(loc + 8, true));
      if (dv.getUint32(z64, true) !== 0x06064b50) throw new UserInputError(`${file}: broken ZIP64 end record`);
      count = Number(dv.getBigUint64(z64 + 32, true));
      cdOffset = Number(dv.getBigUint64(z64 + 48, true));
    }
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > buf.length || dv.getUint32(p, true) !== 0x02014b50) throw new UserInputError(`${file}: corrupt zip central directory`);
      const method = dv.getUint16(p + 10, true);
      let compressedSize = dv.getUint32(p + 20, true);
      let size = dv.getUint32(p + 24, true);
      const nameLen = dv.getUint16(p + 28, true);
      const extraLen = dv.getUint16(p + 30, true);
      const commentLen = dv.getUint16(p + 32, true);
      let localHeaderOffset = dv.getUint32(p + 42, true);
      const name = Buffer.from(buf.buffer, buf.byteOffset + p + 46, nameLen).toString('utf8');
      // ZIP64 extended information: the 0xffffffff fields follow in order
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = dv.getUint16(e, true);
        const len = dv.getUint16(e + 2, true);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === 0xffffffff) { size = Number(dv.getBigUint64(q, true)); q += 8; }
          if (compressedSize === 0xffffffff) { compressedSize = Number(dv.getBigUint64(q, true)); q += 8; }
          if (localHeaderOffset === 0xffffffff) { localHeaderOffset = Number(dv.getBigUint64(q, true)); q += 8; }
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
      p = eEnd + commentLen;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  read(name: string): Uint8Array {
    try {
      return this.readEntry(name);
    } catch (err) {
      throw corrupt(err, this.file);
    }
  }

  private readEntry(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new UserInputError(`${this.file}: zip entry ${name} is missing`);
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    const h = e.localHeaderOffset;
    if (dv.getUint32(h, true) !== 0x04034b50) throw new UserInputError(`${this.file}: corrupt local header for ${name}`);
    const start = h + 30 + dv.getUint16(h + 26, true) + dv.getUint16(h + 28, true);
    if (start + e.compressedSize > this.buf.length) throw new UserInputError(`${this.file}: entry ${name} runs past the end of the file (truncated?)`);
    const raw = this.buf.subarray(start, start + e.compressedSize);
    if (e.method === 0) return raw;
    if (e.method === 8) return new Uint8Array(inflateRawSync(raw));
    throw new UserInputError(`${this.file}: entry ${name} uses unsupported zip compression method ${e.method}`);
  }
}

/** Offsets and sizes in a damaged file point anywhere: a read past the end or a bad deflate stream is the file's fault. */
function corrupt(err: unknown, file: string): Error {
  if (err instanceof UserInputError) return err;
  return new UserInputError(`${file}: corrupt zip archive (${oneLine((err as Error).message)})`);
}
