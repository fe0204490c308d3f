import { DamagedImageError, InvalidImageError } from './invalid-image.error';

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;

/** Width and height from a BMP header, without decoding pixels. */
export function bmpDimensions(bytes: Buffer): { width: number; height: number } {
  if (bytes.length < 26) throw new DamagedImageError('the BMP ends inside its header (cut short?)');
  return { width: bytes.readInt32LE(18), height: Math.abs(bytes.readInt32LE(22)) };
}

/** BITMAPINFOHEADER and its successors (V2, V3, V4, V5); the 12-byte OS/2 core header has 16-bit sizes. */
const INFO_HEADER_SIZES = new Set([40, 52, 56, 108, 124]);
/** Writers pad files to a multiple of 4 bytes; more after the pixels is data the header does not account for. */
const MAX_PADDING = 3;

/**
 * Decodes the BMP variants cameras and frame grabbers write: uncompressed
 * 24-bit BGR and 32-bit BGRA/BGRX (BITMAPINFOHEADER and later), bottom-up or
 * top-down. libvips as shipped with sharp has no BMP loader. Palette and
 * RLE-compressed BMPs are refused with a clear message. An uncompressed BMP
 * has no checksum and every pixel value is valid, so what can be checked is
 * that the file holds exactly the pixels its header promises.
 */
export function decodeBmp(bytes: Buffer): RawImage {
  if (bytes.length < 54) throw new DamagedImageError('the BMP ends inside its header (cut short?)');
  const fileSize = bytes.readUInt32LE(2);
  const pixelOffset = bytes.readUInt32LE(10);
  const headerSize = bytes.readUInt32LE(14);
  const width = bytes.readInt32LE(18);
  const signedHeight = bytes.readInt32LE(22);
  const bitsPerPixel = bytes.readUInt16LE(28);
  const compression = bytes.readUInt32LE(30);
  const height = Math.abs(signedHeight);
  if (!INFO_HEADER_SIZES.has(headerSize) || bytes.readUInt16LE(26) !== 1) throw new DamagedImageError('the BMP\'s header is not valid');
  if (width <= 0 || height === 0) throw new DamagedImageError(`the BMP's header gives a size of ${width}x${height}`);
  if ((bitsPerPixel !== 24 && bitsPerPixel !== 32) || (compression !== BI_RGB && compression !== BI_BITFIELDS)) {
    throw new InvalidImageError(
      `BMP pixel format ${bitsPerPixel}-bit${compression === BI_RGB ? '' : ` with compression ${compression}`} is not supported; send 24- or 32-bit uncompressed BMP, or PNG/JPEG`,
    );
  }
  if (pixelOffset < 14 + headerSize || pixelOffset > bytes.length) throw new DamagedImageError(`the BMP's pixel data offset ${pixelOffset} is outside the file`);
  if (fileSize !== 0 && fileSize !== bytes.length) throw new DamagedImageError(`the BMP's header says the file is ${fileSize} bytes; it is ${bytes.length}`);
  const bytesPerPixel = bitsPerPixel / 8;
  const rowStride = Math.ceil((width * bytesPerPixel) / 4) * 4;
  const pixelEnd = pixelOffset + rowStride * height;
  if (pixelEnd > bytes.length) {
    throw new DamagedImageError(`the BMP's pixel data ends early: its ${width}x${height} header needs ${pixelEnd - pixelOffset} bytes, the file holds ${bytes.length - pixelOffset}`);
  }
  const dataEnd = Math.max(pixelEnd, embeddedProfileEnd(bytes, headerSize));
  if (bytes.length - dataEnd > MAX_PADDING || bytes.subarray(dataEnd).some((byte) => byte !== 0)) {
    throw new DamagedImageError(`the BMP holds ${bytes.length - dataEnd} bytes more than its ${width}x${height} header accounts for`);
  }
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

/** A V5 header may embed an ICC profile after the pixels ('MBED'); its end counts as the end of the data. */
function embeddedProfileEnd(bytes: Buffer, headerSize: number): number {
  if (headerSize !== 124 || bytes.readUInt32LE(14 + 56) !== 0x4d424544) return 0;
  const end = 14 + bytes.readUInt32LE(14 + 112) + bytes.readUInt32LE(14 + 116);
  if (end > bytes.length) throw new DamagedImageError('the BMP\'s colour profile runs past the end of the file (cut short?)');
  return end;
}
