/**
 * The image formats Loupe stores, told apart by their first bytes (their
 * "magic numbers"), so a media type that names one format over the bytes of
 * another, or over bytes of no image at all, is refused where it comes in
 * rather than served under the wrong type later.
 */
const SIGNATURES: readonly { mediaType: string; description: string; matches(image: Uint8Array): boolean }[] = [
  { mediaType: 'image/jpeg', description: 'FF D8 FF', matches: (image) => startsWith(image, [0xff, 0xd8, 0xff]) },
  { mediaType: 'image/png', description: '89 50 4E 47 0D 0A 1A 0A', matches: (image) => startsWith(image, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { mediaType: 'image/webp', description: "'RIFF', 4 bytes of size, 'WEBP'", matches: (image) => latin1(image, 0, 4) === 'RIFF' && latin1(image, 8, 12) === 'WEBP' },
  { mediaType: 'image/bmp', description: "'BM'", matches: (image) => latin1(image, 0, 2) === 'BM' },
  { mediaType: 'image/tiff', description: "'II*\\0' or 'MM\\0*'", matches: (image) => ['II*\0', 'MM\0*'].includes(latin1(image, 0, 4)) },
];

export const SIGNED_IMAGE_MEDIA_TYPES = SIGNATURES.map((signature) => signature.mediaType);

function startsWith(image: Uint8Array, prefix: number[]): boolean {
  return image.length >= prefix.length && prefix.every((byte, index) => image[index] === byte);
}

function latin1(image: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...image.subarray(from, to));
}

/** The media type the image's first bytes announce, or undefined for none of the formats above. */
export function imageMediaTypeOf(image: Uint8Array): string | undefined {
  return SIGNATURES.find((signature) => signature.matches(image))?.mediaType;
}

/**
 * Why `mediaType` does not fit the image's bytes, for the sender to fix, or
 * undefined when it does: "image_media_type is image/png but the image starts
 * with ff d8 ff e0 (image/jpeg); image/png starts with 89 50 4E 47 0D 0A 1A 0A"
 */
export function mediaTypeMismatch(image: Uint8Array, mediaType: string): string | undefined {
  const signature = SIGNATURES.find((each) => each.mediaType === mediaType);
  if (signature?.matches(image)) return undefined;
  const head = Buffer.from(image.subarray(0, 4)).toString('hex').replace(/(..)(?=.)/g, '$1 ');
  const actual = imageMediaTypeOf(image);
  const expected = signature ? `; ${mediaType} starts with ${signature.description}` : `; known types: ${SIGNED_IMAGE_MEDIA_TYPES.join(', ')}`;
  return `image_media_type is ${mediaType} but the image starts with ${head || 'nothing'} (${actual ?? 'no known image format'})${expected}`;
}
