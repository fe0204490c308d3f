import { crc32 } from 'node:zlib';

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length, 0);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'ascii'), data])), 0);
  return Buffer.concat([length, Buffer.from(type, 'ascii'), data, crc]);
}

/** A tiny, well-formed PNG whose header claims the given size: what a hostile or corrupt upload looks like. */
export function pngClaimingSize(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8);
  header.writeUInt8(2, 9);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** An uncompressed BMP with the given pixel rows (top first), 24-bit, stored bottom-up as most writers do. */
export function bmp24(rows: [number, number, number][][]): Buffer {
  return bmpFromRgb(Buffer.from(rows.flat(2)), rows[0]?.length ?? 0, rows.length);
}

/** A 24-bit bottom-up BMP of interleaved RGB pixels, as Windows and most frame grabbers write it. */
export function bmpFromRgb(rgb: Buffer, width: number, height: number): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const file = Buffer.alloc(54 + stride * height);
  file.write('BM', 0, 'ascii');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  file.writeUInt32LE(stride * height, 34);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const source = (y * width + x) * 3;
      file[row + x * 3] = rgb[source + 2]!;
      file[row + x * 3 + 1] = rgb[source + 1]!;
      file[row + x * 3 + 2] = rgb[source]!;
    }
  }
  return file;
}

/** A BMP that says 8 bits per pixel (a palette image), a pixel format the agent does not take. */
export function bmpWithPalette(): Buffer {
  const image = bmp24([[[1, 2, 3]]]);
  image.writeUInt16LE(8, 28);
  return image;
}
