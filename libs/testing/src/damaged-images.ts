import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { bmpFromRgb } from './hostile-images';

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'tiff' | 'bmp';

/** How an image is written: the formats the agent takes, in the variants cameras and libraries write. */
export type ImageEncoding = 'jpeg' | 'jpeg-progressive' | 'png' | 'webp' | 'webp-lossless' | 'tiff' | 'tiff-deflate' | 'bmp';

export const IMAGE_ENCODINGS: readonly ImageEncoding[] = ['jpeg', 'jpeg-progressive', 'png', 'webp', 'webp-lossless', 'tiff', 'tiff-deflate', 'bmp'];

export interface EncodedImage {
  /** The file it came from, e.g. "Defective_02.png". */
  source: string;
  /** 'original' for the file as it is. */
  encoding: ImageEncoding | 'original';
  format: ImageFormat;
  bytes: Buffer;
}

export type DamageKind =
  | 'cut'
  | 'cut-end-marker-added'
  | 'header-byte-changed'
  | 'data-byte-changed'
  | 'size-overstated'
  | 'size-understated';

export interface DamagedImage {
  image: EncodedImage;
  kind: DamageKind;
  /** Where and how, e.g. "cut at byte 5120 of 17020". */
  detail: string;
  bytes: Buffer;
}

/** Re-encodes an image; BMP is written here (24-bit, bottom-up), as libvips has no BMP writer. */
export async function encodeImage(bytes: Buffer, encoding: ImageEncoding): Promise<Buffer> {
  const image = sharp(bytes).removeAlpha();
  switch (encoding) {
    case 'jpeg':
      return image.jpeg({ quality: 90 }).toBuffer();
    case 'jpeg-progressive':
      return image.jpeg({ quality: 90, progressive: true }).toBuffer();
    case 'png':
      return image.png().toBuffer();
    case 'webp':
      return image.webp({ quality: 90 }).toBuffer();
    case 'webp-lossless':
      return image.webp({ lossless: true }).toBuffer();
    case 'tiff':
      return image.tiff({ compression: 'none' }).toBuffer();
    case 'tiff-deflate':
      return image.tiff({ compression: 'deflate' }).toBuffer();
    case 'bmp': {
      const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
      return bmpFromRgb(data, info.width, info.height);
    }
  }
}

export function formatOf(encoding: ImageEncoding): ImageFormat {
  return encoding.split('-')[0] as ImageFormat;
}

/** Where a file's header and its pixel data are, and how to make its header lie about its size. */
export interface ImageLayout {
  header: { start: number; end: number };
  data: { start: number; end: number };
  /** The bytes a format ends with (JPEG's EOI, PNG's IEND chunk), if it has them. */
  endMarker?: Buffer;
  /** A copy whose header claims a size changed by (dw, dh), with its checksums kept valid. */
  resized: (dw: number, dh: number) => Buffer;
}

export function imageLayout(bytes: Buffer, format: ImageFormat): ImageLayout {
  switch (format) {
    case 'jpeg':
      return jpegLayout(bytes);
    case 'png':
      return pngLayout(bytes);
    case 'webp':
      return webpLayout(bytes);
    case 'tiff':
      return tiffLayout(bytes);
    case 'bmp':
      return bmpLayout(bytes);
  }
}

export interface CorpusPlan {
  /** Cuts spread over the data, each also with the end marker put back where the format has one. */
  cuts: number;
  headerChanges: number;
  dataChanges: number;
  /** Rows and columns the header adds or takes away: 16 is a whole JPEG MCU at any subsampling. */
  sizeLie: number;
}

/** The damaged versions of one image, at evenly spread places, so every run tests the same files. */
export function damagedVersions(image: EncodedImage, plan: CorpusPlan): DamagedImage[] {
  const layout = imageLayout(image.bytes, image.format);
  const { bytes } = image;
  const out: DamagedImage[] = [];
  const spread = (count: number, start: number, end: number) => Array.from({ length: count }, (_, i) => start + Math.floor(((end - start) * (i + 0.5)) / count));
  for (const at of [...spread(2, layout.header.start, layout.header.end), ...spread(plan.cuts, layout.data.start, layout.data.end)]) {
    const cut = bytes.subarray(0, at);
    out.push({ image, kind: 'cut', detail: `cut at byte ${at} of ${bytes.length}`, bytes: cut });
    if (layout.endMarker) {
      out.push({ image, kind: 'cut-end-marker-added', detail: `cut at byte ${at} of ${bytes.length}, end marker added`, bytes: Buffer.concat([cut, layout.endMarker]) });
    }
  }
  const change = (kind: DamageKind, positions: number[]) =>
    positions.forEach((at, i) => {
      // Alternately one flipped bit and a whole byte inverted.
      const mask = i % 2 === 0 ? 1 << (i % 8) : 0xff;
      const changed = Buffer.from(bytes);
      changed[at] = changed[at]! ^ mask;
      out.push({ image, kind, detail: `byte ${at} xor 0x${mask.toString(16)}`, bytes: changed });
    });
  change('header-byte-changed', spread(plan.headerChanges, layout.header.start, layout.header.end));
  change('data-byte-changed', spread(plan.dataChanges, layout.data.start, layout.data.end));
  const lie = plan.sizeLie;
  for (const [dw, dh] of [[0, lie], [lie, 0]] as const) {
    out.push({ image, kind: 'size-overstated', detail: `header says ${dw} columns and ${dh} rows more`, bytes: layout.resized(dw, dh) });
    out.push({ image, kind: 'size-understated', detail: `header says ${dw} columns and ${dh} rows fewer`, bytes: layout.resized(-dw, -dh) });
  }
  return out;
}

function jpegLayout(bytes: Buffer): ImageLayout {
  let at = 2;
  let frame = -1;
  while (bytes[at] === 0xff && bytes[at + 1] !== 0xda) {
    const marker = bytes[at + 1]!;
    if (marker >= 0xc0 && marker <= 0xc2) frame = at;
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  const dataStart = at + 2 + bytes.readUInt16BE(at + 2);
  const end = bytes.lastIndexOf(Buffer.from([0xff, 0xd9]));
  return {
    header: { start: 2, end: dataStart },
    data: { start: dataStart, end },
    endMarker: Buffer.from([0xff, 0xd9]),
    resized: (dw, dh) => {
      const copy = Buffer.from(bytes);
      copy.writeUInt16BE(bytes.readUInt16BE(frame + 5) + dh, frame + 5);
      copy.writeUInt16BE(bytes.readUInt16BE(frame + 7) + dw, frame + 7);
      return copy;
    },
  };
}

const IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

function pngLayout(bytes: Buffer): ImageLayout {
  let at = 8;
  let first = -1;
  let last = -1;
  while (at < bytes.length) {
    const length = bytes.readUInt32BE(at);
    if (bytes.toString('latin1', at + 4, at + 8) === 'IDAT') {
      if (first < 0) first = at;
      last = at + 12 + length;
    }
    at += 12 + length;
  }
  return {
    header: { start: 8, end: first },
    data: { start: first, end: last },
    endMarker: IEND,
    resized: (dw, dh) => {
      const copy = Buffer.from(bytes);
      copy.writeUInt32BE(bytes.readUInt32BE(16) + dw, 16);
      copy.writeUInt32BE(bytes.readUInt32BE(20) + dh, 20);
      // A writer that got the size wrong writes a valid CRC for it.
      copy.writeUInt32BE(crc32(copy.subarray(12, 29)), 29);
      return copy;
    },
  };
}

function webpLayout(bytes: Buffer): ImageLayout {
  const chunks: { type: string; data: number; size: number }[] = [];
  for (let at = 12; at + 8 <= bytes.length; ) {
    const size = bytes.readUInt32LE(at + 4);
    chunks.push({ type: bytes.toString('latin1', at, at + 4), data: at + 8, size });
    at += 8 + size + (size & 1);
  }
  const image = chunks.find((chunk) => chunk.type === 'VP8 ' || chunk.type === 'VP8L')!;
  const headerBytes = image.type === 'VP8 ' ? 10 : 5;
  return {
    header: { start: 0, end: image.data + headerBytes },
    data: { start: image.data + headerBytes, end: image.data + image.size },
    resized: (dw, dh) => {
      const copy = Buffer.from(bytes);
      if (image.type === 'VP8 ') {
        copy.writeUInt16LE((bytes.readUInt16LE(image.data + 6) & 0xc000) | ((bytes.readUInt16LE(image.data + 6) & 0x3fff) + dw), image.data + 6);
        copy.writeUInt16LE((bytes.readUInt16LE(image.data + 8) & 0xc000) | ((bytes.readUInt16LE(image.data + 8) & 0x3fff) + dh), image.data + 8);
      } else {
        const bits = bytes.readUInt32LE(image.data + 1);
        const width = (bits & 0x3fff) + dw;
        const height = ((bits >>> 14) & 0x3fff) + dh;
        copy.writeUInt32LE(((bits & ~0xfffffff) | width | (height << 14)) >>> 0, image.data + 1);
      }
      const canvas = chunks.find((chunk) => chunk.type === 'VP8X');
      if (canvas) {
        copy.writeUIntLE(bytes.readUIntLE(canvas.data + 4, 3) + dw, canvas.data + 4, 3);
        copy.writeUIntLE(bytes.readUIntLE(canvas.data + 7, 3) + dh, canvas.data + 7, 3);
      }
      return copy;
    },
  };
}

function tiffLayout(bytes: Buffer): ImageLayout {
  const little = bytes[0] === 0x49;
  const u16 = (at: number) => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const ifd = u32(4);
  const entries = u16(ifd);
  const entry = (tag: number) => Array.from({ length: entries }, (_, i) => ifd + 2 + 12 * i).find((at) => u16(at) === tag)!;
  const values = (tag: number) => {
    const at = entry(tag);
    const count = u32(at + 4);
    const wide = u16(at + 2) === 4;
    const base = count * (wide ? 4 : 2) <= 4 ? at + 8 : u32(at + 8);
    return Array.from({ length: count }, (_, i) => (wide ? u32(base + 4 * i) : u16(base + 2 * i)));
  };
  const offsets = values(273);
  const counts = values(279);
  const writeSize = (copy: Buffer, tag: number, delta: number) => {
    const at = entry(tag);
    const wide = u16(at + 2) === 4;
    const value = (wide ? u32(at + 8) : u16(at + 8)) + delta;
    if (wide) copy[little ? 'writeUInt32LE' : 'writeUInt32BE'](value, at + 8);
    else copy[little ? 'writeUInt16LE' : 'writeUInt16BE'](value, at + 8);
  };
  return {
    header: { start: ifd, end: ifd + 2 + 12 * entries },
    data: { start: Math.min(...offsets), end: Math.max(...offsets.map((offset, i) => offset + counts[i]!)) },
    resized: (dw, dh) => {
      const copy = Buffer.from(bytes);
      writeSize(copy, 256, dw);
      writeSize(copy, 257, dh);
      return copy;
    },
  };
}

function bmpLayout(bytes: Buffer): ImageLayout {
  const pixels = bytes.readUInt32LE(10);
  return {
    header: { start: 0, end: pixels },
    data: { start: pixels, end: bytes.length },
    resized: (dw, dh) => {
      const copy = Buffer.from(bytes);
      copy.writeInt32LE(bytes.readInt32LE(18) + dw, 18);
      copy.writeInt32LE(bytes.readInt32LE(22) + dh, 22);
      return copy;
    },
  };
}
