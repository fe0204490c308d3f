import { inflatedLength } from './inflated-length';
import { DamagedImageError } from './invalid-image.error';

const IMAGE_WIDTH = 256;
const IMAGE_LENGTH = 257;
const BITS_PER_SAMPLE = 258;
const COMPRESSION = 259;
const STRIP_OFFSETS = 273;
const SAMPLES_PER_PIXEL = 277;
const ROWS_PER_STRIP = 278;
const STRIP_BYTE_COUNTS = 279;
const PLANAR_CONFIGURATION = 284;
const TILE_OFFSETS = 324;
const TILE_BYTE_COUNTS = 325;
const UNCOMPRESSED = 1;
/** Adobe's and the old code for zlib deflate (TIFF Technical Note 2). */
const DEFLATE = new Set([8, 32946]);
/** Bytes per value of each TIFF 6.0 field type (section 2), by type number. */
const TYPE_BYTES = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8];

interface Field {
  type: number;
  count: number;
  /** Where the values are: in the entry when they fit in 4 bytes, else at an offset. */
  at: number;
}

/**
 * Walks the first image of a TIFF (TIFF 6.0, section 2): its IFD and every
 * value must lie inside the file, every strip or tile must be there in
 * full, and each strip of an uncompressed or deflated image must hold
 * exactly the rows its size promises. libtiff sees a strip that holds too
 * little; one that holds too much it reads no further than the header says.
 * LZW, PackBits and JPEG strips are left to libtiff.
 */
export async function checkTiffStructure(bytes: Buffer): Promise<void> {
  const little = bytes[0] === 0x49;
  const u16 = (at: number) => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  if (bytes.length < 8) throw cutShort();
  const ifd = u32(4);
  if (ifd + 2 > bytes.length) throw cutShort();
  const entries = u16(ifd);
  if (ifd + 2 + entries * 12 + 4 > bytes.length) throw cutShort();
  const fields = new Map<number, Field>();
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    const type = u16(entry + 2);
    const count = u32(entry + 4);
    const size = (TYPE_BYTES[type] ?? 1) * count;
    const at = size <= 4 ? entry + 8 : u32(entry + 8);
    if (at + size > bytes.length) throw new DamagedImageError(`the TIFF's tag ${u16(entry)} points past the end of the file (cut short?)`);
    fields.set(u16(entry), { type, count, at });
  }
  const values = (tag: number): number[] => {
    const field = fields.get(tag);
    if (!field) return [];
    const read = field.type === 3 ? u16 : field.type === 4 ? u32 : (at: number) => bytes[at]!;
    const step = field.type === 3 ? 2 : field.type === 4 ? 4 : 1;
    return Array.from({ length: field.count }, (_, i) => read(field.at + i * step));
  };
  const offsets = fields.has(TILE_OFFSETS) ? values(TILE_OFFSETS) : values(STRIP_OFFSETS);
  const counts = fields.has(TILE_BYTE_COUNTS) ? values(TILE_BYTE_COUNTS) : values(STRIP_BYTE_COUNTS);
  if (offsets.length === 0 || offsets.length !== counts.length) throw new DamagedImageError('the TIFF\'s strip offsets and byte counts do not match');
  offsets.forEach((offset, i) => {
    if (offset + counts[i]! > bytes.length) throw cutShort();
  });
  const compression = values(COMPRESSION)[0] ?? UNCOMPRESSED;
  if (fields.has(TILE_OFFSETS) || (compression !== UNCOMPRESSED && !DEFLATE.has(compression))) return;
  const expected = stripLengths(counts.length, values);
  for (let strip = 0; strip < counts.length; strip++) {
    const data = bytes.subarray(offsets[strip], offsets[strip]! + counts[strip]!);
    const length =
      compression === UNCOMPRESSED
        ? data.length
        : await inflatedLength([data], expected.bytes[strip]!).catch((error: Error) => {
            throw new DamagedImageError(`the TIFF's strip ${strip} does not inflate (${error.message})`);
          });
    if (length !== expected.bytes[strip]) {
      throw new DamagedImageError(`the TIFF's strip ${strip} holds ${length} bytes of pixels where its ${expected.size} size needs ${expected.bytes[strip]}`);
    }
  }
}

/** Each strip holds RowsPerStrip rows (the last one the rest) of width x bits per pixel, rounded up to bytes per row. */
function stripLengths(strips: number, values: (tag: number) => number[]): { bytes: number[]; size: string } {
  const width = values(IMAGE_WIDTH)[0] ?? 0;
  const height = values(IMAGE_LENGTH)[0] ?? 0;
  const samples = values(SAMPLES_PER_PIXEL)[0] ?? 1;
  const bits = values(BITS_PER_SAMPLE);
  const planar = (values(PLANAR_CONFIGURATION)[0] ?? 1) === 2;
  const rowsPerStrip = Math.min(values(ROWS_PER_STRIP)[0] ?? height, height);
  if (width === 0 || height === 0 || rowsPerStrip === 0) throw new DamagedImageError(`the TIFF's header gives a size of ${width}x${height}`);
  const stripsPerPlane = Math.ceil(height / rowsPerStrip);
  const planes = planar ? samples : 1;
  if (strips !== stripsPerPlane * planes) {
    throw new DamagedImageError(`the TIFF has ${strips} strips where its ${width}x${height} size needs ${stripsPerPlane * planes}`);
  }
  // BitsPerSample defaults to 1 (section 8) and may be given once for all samples.
  const sampleBits = (sample: number) => bits[sample] ?? bits[0] ?? 1;
  const chunkyBits = Array.from({ length: samples }, (_, sample) => sampleBits(sample)).reduce((sum, bit) => sum + bit, 0);
  const bytes = Array.from({ length: strips }, (_, strip) => {
    const pixelBits = planar ? sampleBits(Math.floor(strip / stripsPerPlane)) : chunkyBits;
    const rows = Math.min(rowsPerStrip, height - (strip % stripsPerPlane) * rowsPerStrip);
    return rows * Math.ceil((width * pixelBits) / 8);
  });
  return { bytes, size: `${width}x${height}` };
}

function cutShort(): DamagedImageError {
  return new DamagedImageError('the TIFF ends before the data its header points to (cut short?)');
}
