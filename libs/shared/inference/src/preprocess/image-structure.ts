import { checkJpegStructure } from './jpeg-structure';
import { checkPngStructure } from './png-structure';
import { checkTiffStructure } from './tiff-structure';
import { checkWebpStructure } from './webp-structure';

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'tiff' | 'bmp';

const startsWith = (bytes: Buffer, signature: number[], at = 0) => signature.every((byte, i) => bytes[at + i] === byte);

/** The format its magic bytes name, if it is one the agent takes. */
export function imageFormat(bytes: Buffer): ImageFormat | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(bytes, [0x42, 0x4d])) return 'bmp';
  return undefined;
}

/**
 * Checks what the container of each format lets one check without decoding
 * pixels, and throws DamagedImageError for a file that is not whole. The
 * decoders see some damage themselves and miss other kinds; this sees what
 * they miss that the format can show. BMP's checks are in its decoder.
 */
export async function checkImageStructure(bytes: Buffer, format: ImageFormat): Promise<void> {
  switch (format) {
    case 'jpeg':
      return checkJpegStructure(bytes);
    case 'png':
      return checkPngStructure(bytes);
    case 'webp':
      return checkWebpStructure(bytes);
    case 'tiff':
      return checkTiffStructure(bytes);
    case 'bmp':
      return;
  }
}
