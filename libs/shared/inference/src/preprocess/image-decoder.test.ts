import { randomBytes } from 'node:crypto';
import { bmp24, bmpWithPalette, pngClaimingSize } from '@loupe/testing';
import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { InputSpec } from '../manifest/model-manifest';
import { decodeImage } from './image-decoder';
import { DamagedImageError, InvalidImageError } from './invalid-image.error';

function input(width: number, height: number, resize: InputSpec['resize'] = { mode: 'stretch', kernel: 'nearest' }): InputSpec {
  return {
    name: 'x',
    shape: [1, 3, height, width],
    layout: 'NCHW',
    dtype: 'float32',
    channelOrder: 'RGB',
    resize,
    normalize: { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
  };
}

/** A solid-colour image in any format sharp writes. */
function solid(width: number, height: number, colour: { r: number; g: number; b: number }) {
  return sharp({ create: { width, height, channels: 3, background: colour } });
}

describe('decodeImage', () => {
  it.each(['jpeg', 'png', 'webp', 'tiff'] as const)('reads %s into RGB pixels at the input size', async (format) => {
    const bytes = await solid(32, 16, { r: 200, g: 100, b: 50 }).toFormat(format, { quality: 100 }).toBuffer();
    const { pixels, geometry } = await decodeImage(bytes, input(8, 4));
    expect(pixels.length).toBe(8 * 4 * 3);
    expect(Math.abs(pixels[0]! - 200)).toBeLessThan(4);
    expect(Math.abs(pixels[2]! - 50)).toBeLessThan(4);
    expect(geometry).toMatchObject({ width: 32, height: 16 });
  });

  it('reads 24-bit BMP, which libvips cannot', async () => {
    const bytes = bmp24([
      [
        [255, 0, 0],
        [0, 255, 0],
      ],
      [
        [0, 0, 255],
        [255, 255, 255],
      ],
    ]);
    const { pixels } = await decodeImage(bytes, input(2, 2));
    expect([...pixels]).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
  });

  it('turns grey images into three equal channels', async () => {
    const grey = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 90, g: 90, b: 90 } } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const { pixels } = await decodeImage(grey, input(4, 4));
    expect(pixels.length).toBe(4 * 4 * 3);
    expect(new Set(pixels)).toEqual(new Set([90]));
  });

  it('applies EXIF orientation before resizing', async () => {
    const rotated = await solid(20, 10, { r: 0, g: 0, b: 0 }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const { geometry } = await decodeImage(rotated, input(4, 4));
    expect(geometry).toMatchObject({ width: 10, height: 20 });
  });

  it('letterboxes into the centre and records the padding', async () => {
    const bytes = await solid(40, 20, { r: 255, g: 255, b: 255 }).png().toBuffer();
    const { pixels, geometry } = await decodeImage(bytes, input(8, 8, { mode: 'letterbox', padValue: 0, anchor: 'center', kernel: 'nearest' }));
    expect(geometry).toMatchObject({ scaleX: 0.2, scaleY: 0.2, padX: 0, padY: 2 });
    expect(pixels[0]).toBe(0);
    expect(pixels[(3 * 8 + 3) * 3]).toBe(255);
  });

  describe('refuses bad input with a message an integrator can act on', () => {
    const reject = (bytes: Buffer, message: RegExp) => expect(decodeImage(bytes, input(8, 8))).rejects.toThrow(message);

    it('an empty request', () => reject(Buffer.alloc(0), /image is empty/));

    it('bytes that are no image', () => reject(Buffer.from('hello, this is not a picture'), /format not recognised: send JPEG, PNG, BMP, TIFF or WebP/));

    it('a truncated JPEG', async () => {
      const noise = randomBytes(256 * 256 * 3);
      const jpeg = await sharp(noise, { raw: { width: 256, height: 256, channels: 3 } }).jpeg().toBuffer();
      await reject(jpeg.subarray(0, jpeg.length / 2), /image is damaged: the JPEG ends inside its scan data/);
    });

    it('a header that claims 30000x30000', () => reject(pngClaimingSize(30000, 30000), /image is 30000x30000 \(900 MP\); the limit is 50 MP/));

    it('an unsupported format', async () => reject(await solid(4, 4, { r: 1, g: 2, b: 3 }).gif().toBuffer(), /format gif is not supported/));

    it('an unsupported BMP pixel format', async () => {
      await reject(bmpWithPalette(), /BMP pixel format 8-bit is not supported/);
    });

    it('with the InvalidImageError type', () => expect(decodeImage(Buffer.alloc(0), input(8, 8))).rejects.toBeInstanceOf(InvalidImageError));
  });

  describe('refuses a damaged image as damaged', () => {
    const damaged = (bytes: Buffer, message: RegExp) =>
      expect(decodeImage(bytes, input(8, 8))).rejects.toThrow(new RegExp(`^image is damaged: ${message.source}`));

    it('counts what the decoder only warns about as damage', async () => {
      const noise = randomBytes(64 * 64 * 3);
      const jpeg = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } }).jpeg({ progressive: true }).toBuffer();
      const warnedOnly: Buffer[] = [];
      for (let at = jpeg.length - 2000; at < jpeg.length - 2; at += 50) {
        const changed = Buffer.from(jpeg);
        changed[at] = changed[at]! ^ 0x10;
        const decodes = (failOn: 'error' | 'warning') => sharp(changed, { failOn }).raw().toBuffer().then(() => true, () => false);
        if ((await decodes('error')) && !(await decodes('warning'))) warnedOnly.push(changed);
      }
      expect(warnedOnly.length).toBeGreaterThan(0);
      for (const changed of warnedOnly) await expect(decodeImage(changed, input(8, 8))).rejects.toBeInstanceOf(DamagedImageError);
    });

    const pixels = () =>
      bmp24([
        [
          [1, 2, 3],
          [4, 5, 6],
          [7, 8, 9],
        ],
      ]);

    it('a BMP whose pixel data is shorter than its header says', () => {
      const bmp = pixels();
      bmp.writeInt32LE(2, 22);
      return damaged(bmp, /the BMP's pixel data ends early: its 3x2 header needs 24 bytes, the file holds 12/);
    });

    it('a BMP whose pixel data is longer than its header says', () => {
      const bmp = Buffer.concat([pixels(), Buffer.alloc(12, 7)]);
      bmp.writeUInt32LE(bmp.length, 2);
      return damaged(bmp, /the BMP holds 12 bytes more than its 3x1 header accounts for/);
    });

    it('a BMP whose file size field disagrees with the file', () => {
      const bmp = pixels();
      bmp.writeUInt32LE(bmp.length + 100, 2);
      return damaged(bmp, /the BMP's header says the file is 166 bytes; it is 66/);
    });

    it('but not a top-down BMP, nor one padded to four bytes', async () => {
      const topDown = pixels();
      topDown.writeInt32LE(-1, 22);
      await expect(decodeImage(topDown, input(3, 1))).resolves.toMatchObject({ geometry: { width: 3, height: 1 } });
      const padded = Buffer.concat([pixels(), Buffer.alloc(2)]);
      padded.writeUInt32LE(padded.length, 2);
      await expect(decodeImage(padded, input(3, 1))).resolves.toMatchObject({ geometry: { width: 3, height: 1 } });
    });
  });
});

describe('decodeImage of a region', () => {
  /** A 40x30 image of random pixels, so every pixel is told apart. */
  const noise = () => sharp(randomBytes(40 * 30 * 3), { raw: { width: 40, height: 30, channels: 3 } }).png().toBuffer();

  it.each([
    ['stretch', { mode: 'stretch', kernel: 'linear' }],
    ['letterbox', { mode: 'letterbox', padValue: 114, anchor: 'center', kernel: 'linear' }],
    ['center-crop', { mode: 'center-crop', resizeTo: 12, kernel: 'linear' }],
  ] as const)('gives with %s the pixels of the region cut out first, and maps back into the whole image', async (_, resize) => {
    const bytes = await noise();
    const region = { left: 7, top: 5, width: 21, height: 13 };
    const cut = await sharp(bytes).extract(region).png().toBuffer();
    const [ofRegion, ofCut] = await Promise.all([decodeImage(bytes, input(10, 10, resize), undefined, region), decodeImage(cut, input(10, 10, resize))]);
    expect(ofRegion.pixels.equals(ofCut.pixels)).toBe(true);
    expect(ofRegion.geometry).toEqual({ ...ofCut.geometry, width: 40, height: 30, offsetX: ofCut.geometry.offsetX + 7, offsetY: ofCut.geometry.offsetY + 5 });
  });

  it('clips a region that runs over the edge, and refuses one outside the image', async () => {
    const bytes = await noise();
    const clipped = await decodeImage(bytes, input(10, 10), undefined, { left: -5.5, top: 20, width: 20, height: 40 });
    const inside = await decodeImage(bytes, input(10, 10), undefined, { left: 0, top: 20, width: 15, height: 10 });
    expect(clipped.pixels.equals(inside.pixels)).toBe(true);
    await expect(decodeImage(bytes, input(10, 10), undefined, { left: 40, top: 0, width: 5, height: 5 })).rejects.toThrow(/lies outside the 40x30 image/);
  });

  it('gives the input size for any region that touches the image, and refuses every other one as an invalid image', async () => {
    const bytes = await noise();
    const coordinate = fc.oneof(fc.double({ min: -100, max: 100 }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0));
    await fc.assert(
      fc.asyncProperty(fc.record({ left: coordinate, top: coordinate, width: coordinate, height: coordinate }), async (region) => {
        const decoded = await decodeImage(bytes, input(6, 4), undefined, region).catch((error: unknown) => error);
        if (decoded instanceof InvalidImageError) return;
        expect(decoded).toMatchObject({ pixels: { length: 6 * 4 * 3 } });
      }),
      { numRuns: 200 },
    );
  });
});
