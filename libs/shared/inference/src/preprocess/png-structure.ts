import { crc32 } from 'node:zlib';
import { inflatedLength } from './inflated-length';
import { DamagedImageError } from './invalid-image.error';

const SIGNATURE_BYTES = 8;
/** Channels of each PNG colour type (section 11.2.2). */
const CHANNELS = new Map([
  [0, 1],
  [2, 3],
  [3, 1],
  [4, 2],
  [6, 4],
]);
/** Adam7's passes: first column, first row, column step, row step (section 8.2). */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/**
 * Walks a PNG's chunks (PNG spec, 3rd edition, section 5) and refuses one
 * whose chunks run past the file, fail their CRC, are out of order, or that
 * has data after IEND. libpng checks the CRC of critical chunks only and
 * quietly drops an ancillary chunk that fails it; but a changed byte
 * anywhere means the file is not what its writer wrote, and it costs one
 * CRC over the file to know. libpng stops reading at the last row its
 * header promises, so the image data is also inflated (off the event
 * loop, counted, not kept) to see that it holds exactly those rows.
 */
export async function checkPngStructure(bytes: Buffer): Promise<void> {
  const data = pngChunks(bytes);
  await checkDataLength(data, expectedDataLength(bytes));
}

/** Walks the chunks; returns the image data (the IDAT chunks' contents). */
function pngChunks(bytes: Buffer): Buffer[] {
  const data: Buffer[] = [];
  let at = SIGNATURE_BYTES;
  let index = 0;
  let sawData = false;
  let dataEnded = false;
  for (;;) {
    if (at + 12 > bytes.length) throw new DamagedImageError('the PNG ends before its IEND chunk (cut short?)');
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const end = at + 12 + length;
    if (length > 0x7fffffff || end > bytes.length) throw new DamagedImageError(`the PNG's ${printable(type)} chunk at byte ${at} runs past the end of the file (cut short?)`);
    if (crc32(bytes.subarray(at + 4, end - 4)) !== bytes.readUInt32BE(end - 4)) {
      throw new DamagedImageError(`the PNG's ${printable(type)} chunk at byte ${at} fails its CRC check (corrupt data)`);
    }
    if ((index === 0) !== (type === 'IHDR')) throw new DamagedImageError('the PNG does not start with its IHDR chunk');
    if (type === 'IDAT') {
      // All IDAT chunks are consecutive (section 5.6).
      if (dataEnded) throw new DamagedImageError('the PNG\'s image data is split by other chunks');
      sawData = true;
      data.push(bytes.subarray(at + 8, end - 4));
    } else if (sawData) {
      dataEnded = true;
    }
    at = end;
    index++;
    if (type === 'IEND') break;
  }
  if (!sawData) throw new DamagedImageError('the PNG has no image data');
  if (at !== bytes.length) throw new DamagedImageError(`the PNG has ${bytes.length - at} bytes of data after its IEND chunk`);
  return data;
}

/** Filtered image data: one filter byte and the packed pixels of each row, of each Adam7 pass when interlaced. */
function expectedDataLength(bytes: Buffer): { bytes: number; size: string } {
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const channels = CHANNELS.get(bytes[25]!);
  if (!channels || width === 0 || height === 0) throw new DamagedImageError('the PNG\'s IHDR chunk is not valid');
  const bitsPerPixel = bytes[24]! * channels;
  const rows = (columns: number, count: number) => (columns === 0 || count === 0 ? 0 : count * (1 + Math.ceil((columns * bitsPerPixel) / 8)));
  const size = `${width}x${height}`;
  if (bytes[28] !== 1) return { bytes: rows(width, height), size };
  const passes = ADAM7.map(([x, y, dx, dy]) => rows(Math.max(0, Math.ceil((width - x) / dx)), Math.max(0, Math.ceil((height - y) / dy))));
  return { bytes: passes.reduce((sum, length) => sum + length, 0), size };
}

async function checkDataLength(data: Buffer[], expected: { bytes: number; size: string }): Promise<void> {
  const inflated = await inflatedLength(data, expected.bytes).catch((error: Error) => {
    throw new DamagedImageError(`the PNG's image data does not inflate (${error.message})`);
  });
  if (inflated > expected.bytes) {
    throw new DamagedImageError(`the PNG's image data holds more than the ${expected.size} pixels its header promises (a header that understates the size?)`);
  }
  if (inflated < expected.bytes) {
    throw new DamagedImageError(`the PNG's image data holds less than the ${expected.size} pixels its header promises (cut short?)`);
  }
}

/** Chunk types are four ASCII letters; a damaged one is shown escaped. */
function printable(type: string): string {
  return /^[A-Za-z]{4}$/.test(type) ? type : JSON.stringify(type);
}
