import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEMO_MODEL_DIR } from '../testing/test-agent';
import { fitSampleImage, mediaTypeOf } from './sample-image';

const png = () => readFile(join(DEMO_MODEL_DIR, 'sample-images', 'Normal_33.png'));

describe('fitSampleImage', () => {
  it('keeps an image that fits as it is', async () => {
    const image = await png();
    expect(await fitSampleImage(image, image.byteLength)).toEqual({ bytes: image, mediaType: 'image/png', shrunk: false });
  });

  it('re-encodes and scales down an oversize image until it fits', async () => {
    const image = await png();
    const fitted = await fitSampleImage(image, 8 * 1024);
    expect(fitted?.shrunk).toBe(true);
    expect(fitted?.mediaType).toBe('image/jpeg');
    expect(fitted!.bytes.byteLength).toBeLessThanOrEqual(8 * 1024);
    const { format, width } = await sharp(fitted!.bytes).metadata();
    expect(format).toBe('jpeg');
    expect(width).toBeGreaterThan(0);
  });

  it('gives up on what it cannot read or shrink', async () => {
    expect(await fitSampleImage(Buffer.from('not an image'), 1_000)).toBeUndefined();
    expect(await fitSampleImage(await png(), 10)).toBeUndefined();
  });

  it('tells media types by their signatures', async () => {
    expect(mediaTypeOf(await png())).toBe('image/png');
    expect(mediaTypeOf(await sharp(await png()).jpeg().toBuffer())).toBe('image/jpeg');
    expect(mediaTypeOf(await sharp(await png()).webp().toBuffer())).toBe('image/webp');
    expect(mediaTypeOf(await sharp(await png()).tiff().toBuffer())).toBe('image/tiff');
    expect(mediaTypeOf(Buffer.from('BM\0\0'))).toBe('image/bmp');
  });
});
