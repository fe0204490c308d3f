import { InvalidImageError } from './invalid-image.error';

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;

export function isBmp(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

/** Width and height from a BMP header, without decoding pixels. */
export function bmpDimensions(bytes: Buffer): { width: number; height: number } {
  if (bytes.length < 26) throw new InvalidImageError('BMP image is truncated: its header is incomplete');
  return { width: bytes.readInt32LE(18), height: Math.abs(bytes.readInt32LE(22)) };
}

/**
 * Decodes the BMP variants cameras and frame grabbers write: uncompressed
 * 24-bit BGR and 32-bit BGRA/BGRX (BITMAPINFOHEADER and later), bottom-up or
 * top-down. libvips as shipped with sharp has no BMP loader. Palette and
 * RLE-compressed BMPs are refused with a clear message.
 */
export function decodeBmp(bytes: Buffer): RawImage {
  if (bytes.length < 54) throw new InvalidImageError('BMP image is truncated: its header is incomplete');
  const pixelOffset = bytes.readUInt32LE(10);
  const width = bytes.readInt32LE(18);
  const signedHeight = bytes.readInt32LE(22);
  const bitsPerPixel = bytes.readUInt16LE(28);
  const compression = bytes.readUInt32LE(30);
  const height = Math.abs(signedHeight);
  if (width <= 0 || height === 0) throw new InvalidImageError(`BMP image has invalid dimensions ${width}x${height}`);
  if ((bitsPerPixel !== 24 && bitsPerPixel !== 32) || (compression !== BI_RGB && compression !== BI_BITFIELDS)) {
    throw new InvalidImageError(
      `BMP pixel format ${bitsPerPixel}-bit${compression === BI_RGB ? '' : ` with compression ${compression}`} is not supported; send 24- or 32-bit uncompressed BMP, or PNG/JPEG`,
    );
  }
  const bytesPerPixel = bitsPerPixel / 8;
  const rowStride = Math.ceil((width * bytesPerPixel) / 4) * 4;
  if (pixelOffset + rowStride * height > bytes.length) throw new InvalidImageError('BMP image is truncated: pixel data ends early');
  const data = Buffer.alloc(width * height * 3);
  const bottomUp = signedHeight > 0;
  for (let y = 0; y < height; y++) {
    const sourceRow = pixelOffset + (bottomUp ? height - 1 - y : y) * rowStride;
    for (let x = 0; x < width; x++) {
      const source = sourceRow + x * bytesPerPixel;
      const target = (y * width + x) * 3;
      data[target] = bytes[source + 2]!;
      data[target + 1] = bytes[source + 1]!;
      data[target + 2] = bytes[source]!;
    }
  }
  return { data, width, height, channels: 3 };
}
