import { crc32 } from 'node:zlib';
import { bmp24, encodeImage, IMAGE_ENCODINGS, imageLayout, formatOf } from '@loupe/testing';
import fc from 'fast-check';
import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { checkImageStructure, imageFormat } from './image-structure';
import { DamagedImageError } from './invalid-image.error';

/** A textured picture, so that every encoder writes real scan data. */
async function picture(width = 96, height = 64): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7 + ((i / 3 / width) | 0) * 13) & 0xff;
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

async function check(bytes: Buffer): Promise<string> {
  const format = imageFormat(bytes);
  if (!format) return 'not an image';
  try {
    await checkImageStructure(bytes, format);
    return 'whole';
  } catch (error) {
    expect(error).toBeInstanceOf(DamagedImageError);
    return (error as Error).message;
  }
}

function segment(marker: number, body: number[]): Buffer {
  const bytes = Buffer.alloc(4 + body.length);
  bytes[0] = 0xff;
  bytes[1] = marker;
  bytes.writeUInt16BE(body.length + 2, 2);
  Buffer.from(body).copy(bytes, 4);
  return bytes;
}

/**
 * A 16x8 grey baseline JPEG of two blocks, written by hand: one-code
 * Huffman tables (DC category 0, AC end-of-block), so each block is the
 * two bits 00, and `data` is the scan as given.
 */
function handWrittenJpeg(restartInterval: number, data: number[]): Buffer {
  const oneCode = [1, ...Array<number>(15).fill(0), 0];
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    segment(0xdb, [0, ...Array<number>(64).fill(1)]),
    segment(0xc0, [8, 0, 8, 0, 16, 1, 1, 0x11, 0]),
    segment(0xc4, [0x00, ...oneCode]),
    segment(0xc4, [0x10, ...oneCode]),
    restartInterval ? segment(0xdd, [0, restartInterval]) : Buffer.alloc(0),
    segment(0xda, [1, 1, 0x00, 0, 63, 0]),
    Buffer.from(data),
    Buffer.from([0xff, 0xd9]),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

describe('checkImageStructure', () => {
  it.each(IMAGE_ENCODINGS)('passes an intact %s', async (encoding) => {
    expect(await check(await encodeImage(await picture(), encoding))).toBe('whole');
  });

  it.each([
    ['grey JPEG', (image: Sharp) => image.greyscale().jpeg()],
    ['4:2:0 JPEG', (image: Sharp) => image.jpeg({ chromaSubsampling: '4:2:0' })],
    ['CMYK JPEG', (image: Sharp) => image.toColourspace('cmyk').jpeg()],
    ['interlaced PNG', (image: Sharp) => image.png({ progressive: true })],
    ['palette PNG', (image: Sharp) => image.png({ palette: true, colours: 16 })],
    ['16-bit PNG', (image: Sharp) => image.toColourspace('rgb16').png()],
    ['PNG with alpha', (image: Sharp) => image.ensureAlpha(0.5).png()],
    ['WebP with alpha', (image: Sharp) => image.ensureAlpha(0.5).webp()],
    ['LZW TIFF', (image: Sharp) => image.tiff({ compression: 'lzw' })],
    ['tiled TIFF', (image: Sharp) => image.tiff({ tile: true, tileWidth: 16, tileHeight: 16 })],
  ])('passes an intact %s', async (_name, write) => {
    expect(await check(await write(sharp(await picture(99, 61))).toBuffer())).toBe('whole');
  });

  describe('JPEG', () => {
    it('refuses a cut with the end marker put back, wherever it falls', async () => {
      const jpeg = await encodeImage(await picture(), 'jpeg');
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: jpeg.length - 3 }), async (at) => {
          expect(await check(Buffer.concat([jpeg.subarray(0, at), Buffer.from([0xff, 0xd9])]))).not.toBe('whole');
        }),
      );
    });

    it('counts the blocks a baseline scan holds against the size its header gives', async () => {
      const { resized } = imageLayout(await encodeImage(await picture(), 'jpeg'), 'jpeg');
      expect(await check(resized(0, 16))).toMatch(/scan data ends after 144 of the 180 blocks its 96x80 header promises/);
      expect(await check(resized(-16, 0))).toMatch(/scan data goes on past the 120 blocks its 80x64 header promises/);
    });

    it('refuses a progressive JPEG that stops before its last refinement scan', async () => {
      const jpeg = await encodeImage(await picture(), 'jpeg-progressive');
      const lastScan = jpeg.lastIndexOf(Buffer.from([0xff, 0xda]));
      expect(await check(Buffer.concat([jpeg.subarray(0, lastScan), Buffer.from([0xff, 0xd9])]))).toMatch(/before every coefficient is complete/);
    });

    it('reads restart intervals and refuses a restart marker that is missing or out of order', async () => {
      expect(await check(handWrittenJpeg(1, [0x3f, 0xff, 0xd0, 0x3f]))).toBe('whole');
      expect(await check(handWrittenJpeg(0, [0x0f]))).toBe('whole');
      expect(await check(handWrittenJpeg(1, [0x3f, 0xff, 0xd1, 0x3f]))).toMatch(/restart marker 0 is missing or out of order/);
      expect(await check(handWrittenJpeg(1, [0x0f]))).toMatch(/restart marker 0 is missing or out of order/);
    });

    it('refuses scan data too short for its blocks, or longer', async () => {
      // Two blocks need four bits; 0x00 0x00 holds eight blocks' worth.
      expect(await check(handWrittenJpeg(0, [0x00, 0x00]))).toMatch(/goes on past the 2 blocks/);
      // An AC code that is not in the table: the one-code table has only 0.
      expect(await check(handWrittenJpeg(0, [0x7f]))).toMatch(/invalid Huffman code in block 1 of 2/);
    });

    it('takes padding after the end marker and refuses other data there', async () => {
      const jpeg = await encodeImage(await picture(), 'jpeg');
      expect(await check(Buffer.concat([jpeg, Buffer.alloc(16)]))).toBe('whole');
      expect(await check(Buffer.concat([jpeg, Buffer.from('trailing')]))).toMatch(/8 bytes of data after its end-of-image marker/);
      expect(await check(Buffer.concat([jpeg, jpeg]))).toMatch(/after its end-of-image marker/);
    });
  });

  describe('PNG', () => {
    it('refuses a changed byte in an ancillary chunk, which libpng lets through', async () => {
      const png = await picture();
      const withText = Buffer.concat([png.subarray(0, 33), pngChunk('tEXt', Buffer.from('Comment\0line 3')), png.subarray(33)]);
      expect(await check(withText)).toBe('whole');
      const changed = Buffer.from(withText);
      changed[33 + 8 + 3] = changed[33 + 8 + 3]! ^ 0x20;
      expect(await check(changed)).toMatch(/PNG's tEXt chunk at byte 33 fails its CRC check/);
      await expect(sharp(changed, { failOn: 'warning' }).raw().toBuffer()).resolves.toBeInstanceOf(Buffer);
    });

    it('refuses a changed byte anywhere', async () => {
      const png = await picture();
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 8, max: png.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, mask) => {
          const changed = Buffer.from(png);
          changed[at] = changed[at]! ^ mask;
          expect(await check(changed)).not.toBe('whole');
        }),
      );
    });

    it('inflates the image data to see that it holds exactly the rows the header promises', async () => {
      const { resized } = imageLayout(await picture(), 'png');
      expect(await check(resized(0, -1))).toMatch(/image data holds more than the 96x63 pixels/);
      expect(await check(resized(0, 1))).toMatch(/image data holds less than the 96x65 pixels/);
    });

    it('refuses data after IEND', async () => {
      expect(await check(Buffer.concat([await picture(), Buffer.from([0])]))).toMatch(/1 bytes of data after its IEND chunk/);
    });
  });

  describe('WebP, TIFF and BMP', () => {
    it('refuses a WebP whose RIFF size disagrees with the file', async () => {
      const webp = await encodeImage(await picture(), 'webp');
      expect(await check(webp.subarray(0, webp.length - 1))).toMatch(/shorter than its RIFF header says/);
      expect(await check(Buffer.concat([webp, Buffer.alloc(2)]))).toMatch(/2 bytes of data after its RIFF container/);
    });

    it('refuses a WebP whose canvas and image sizes differ', async () => {
      const webp = await sharp(await picture()).ensureAlpha(0.5).webp().toBuffer();
      const changed = Buffer.from(webp);
      changed.writeUIntLE(webp.readUIntLE(24, 3) + 1, 24, 3);
      expect(await check(changed)).toMatch(/canvas is 97x64 but its image is 96x64/);
    });

    it('refuses a TIFF whose strips hold other than the rows its size needs, stored or deflated', async () => {
      for (const encoding of ['tiff', 'tiff-deflate'] as const) {
        const { resized } = imageLayout(await encodeImage(await picture(), encoding), 'tiff');
        expect(await check(resized(0, -1))).toMatch(/strip|strips/);
        expect(await check(resized(1, 0))).toMatch(/strip|strips/);
      }
    });

    it('checks a BMP where it is decoded (decodeBmp)', async () => {
      expect(await check(bmp24([[[1, 2, 3]]]))).toBe('whole');
    });
  });

  it('refuses a cut anywhere in any format', async () => {
    const encoded = await Promise.all(IMAGE_ENCODINGS.filter((encoding) => formatOf(encoding) !== 'bmp').map(async (encoding) => encodeImage(await picture(), encoding)));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...encoded), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), async (image, share) => {
        expect(await check(image.subarray(0, Math.floor(image.length * share)))).not.toBe('whole');
      }),
    );
  });
});
