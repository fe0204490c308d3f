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
  const height = rows.length;
  const width = rows[0]?.length ?? 0;
  const stride = Math.ceil((width * 3) / 4) * 4;
  const buffer = Buffer.alloc(54 + stride * height);
  buffer.write('BM', 0, 'ascii');
  buffer.writeUInt32LE(buffer.length, 2);
  buffer.writeUInt32LE(54, 10);
  buffer.writeUInt32LE(40, 14);
  buffer.writeInt32LE(width, 18);
  buffer.writeInt32LE(height, 22);
  buffer.writeUInt16LE(1, 26);
  buffer.writeUInt16LE(24, 28);
  rows.forEach((row, y) =>
    row.forEach(([r, g, b], x) => {
      const offset = 54 + (height - 1 - y) * stride + x * 3;
      buffer[offset] = b;
      buffer[offset + 1] = g;
      buffer[offset + 2] = r;
    }),
  );
  return buffer;
}

/** A BMP that says 8 bits per pixel (a palette image), a pixel format the agent does not take. */
export function bmpWithPalette(): Buffer {
  const image = bmp24([[[1, 2, 3]]]);
  image.writeUInt16LE(8, 28);
  return image;
}
