import sharp from 'sharp';

/** An image small enough to travel as a sample, and its media type. */
export interface SampleImage {
  bytes: Buffer;
  mediaType: string;
  /** True when the original was re-encoded to fit. */
  shrunk: boolean;
}

const SIGNATURES: { mediaType: string; matches(image: Buffer): boolean }[] = [
  { mediaType: 'image/jpeg', matches: (image) => image[0] === 0xff && image[1] === 0xd8 },
  { mediaType: 'image/png', matches: (image) => image.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { mediaType: 'image/webp', matches: (image) => image.toString('latin1', 0, 4) === 'RIFF' && image.toString('latin1', 8, 12) === 'WEBP' },
  { mediaType: 'image/bmp', matches: (image) => image.toString('latin1', 0, 2) === 'BM' },
  { mediaType: 'image/tiff', matches: (image) => ['II*\0', 'MM\0*'].includes(image.toString('latin1', 0, 4)) },
];

export function mediaTypeOf(image: Buffer): string | undefined {
  return SIGNATURES.find((signature) => signature.matches(image))?.mediaType;
}

/**
 * The image as it was when it fits in `maxBytes`; otherwise re-encoded as
 * JPEG and scaled down step by step until it does. Undefined when it cannot
 * be made to fit (or sharp cannot read it, e.g. BMP), so the caller drops it.
 */
export async function fitSampleImage(image: Buffer, maxBytes: number): Promise<SampleImage | undefined> {
  const mediaType = mediaTypeOf(image);
  if (!mediaType) return undefined;
  if (image.byteLength <= maxBytes) return { bytes: image, mediaType, shrunk: false };
  try {
    const { width = 0 } = await sharp(image).metadata();
    // JPEG at quality 85 is usually far smaller than the camera's PNG or TIFF;
    // start from a size the byte ratio suggests and step down from there.
    let targetWidth = Math.max(64, Math.round(width * Math.min(1, Math.sqrt(maxBytes / image.byteLength) * 1.5)));
    for (let attempt = 0; attempt < 6; attempt++) {
      const bytes = await sharp(image).rotate().resize({ width: targetWidth, withoutEnlargement: true }).jpeg({ quality: 85 }).toBuffer();
      if (bytes.byteLength <= maxBytes) return { bytes, mediaType: 'image/jpeg', shrunk: true };
      targetWidth = Math.max(64, Math.round(targetWidth * 0.7));
    }
  } catch {
    return undefined;
  }
  return undefined;
}
