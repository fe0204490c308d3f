import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imageMediaTypeOf, mediaTypeMismatch } from './image-signature';

const HEADS: Record<string, number[]> = {
  'image/jpeg': [0xff, 0xd8, 0xff, 0xe0],
  'image/png': [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  'image/webp': [...Buffer.from('RIFF'), 1, 2, 3, 4, ...Buffer.from('WEBP')],
  'image/bmp': [...Buffer.from('BM')],
  'image/tiff': [...Buffer.from('II*\0')],
};

describe('image signatures', () => {
  it('names the format of each kind of image from its first bytes, big- and little-endian TIFF alike', () => {
    for (const [mediaType, head] of Object.entries(HEADS)) expect(imageMediaTypeOf(Uint8Array.from([...head, 0, 0]))).toBe(mediaType);
    expect(imageMediaTypeOf(Buffer.from('MM\0*rest'))).toBe('image/tiff');
  });

  it('accepts a media type that matches the bytes, and says what the bytes look like when it does not', () => {
    const jpeg = Uint8Array.from([...HEADS['image/jpeg']!, 1, 2]);
    expect(mediaTypeMismatch(jpeg, 'image/jpeg')).toBeUndefined();
    expect(mediaTypeMismatch(jpeg, 'image/png')).toBe(
      'image_media_type is image/png but the image starts with ff d8 ff e0 (image/jpeg); image/png starts with 89 50 4E 47 0D 0A 1A 0A',
    );
    expect(mediaTypeMismatch(new Uint8Array(), 'image/bmp')).toMatch(/starts with nothing \(no known image format\)/);
    expect(mediaTypeMismatch(jpeg, 'text/html')).toMatch(/known types: image\/jpeg, image\/png/);
  });

  it('refuses a JPEG cut before its third byte, and any bytes that start no known format', () => {
    expect(mediaTypeMismatch(Uint8Array.from([0xff, 0xd8]), 'image/jpeg')).toBeDefined();
    const known = Object.values(HEADS).map((head) => head.slice(0, 2));
    const unknown = fc.uint8Array({ minLength: 0, maxLength: 16 }).filter((bytes) => !known.some((head) => head.every((byte, index) => bytes[index] === byte)));
    fc.assert(fc.property(unknown, (bytes) => imageMediaTypeOf(bytes) === undefined));
  });
});
