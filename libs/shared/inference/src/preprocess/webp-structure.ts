import { DamagedImageError } from './invalid-image.error';

/**
 * Walks a WebP's RIFF chunks (RFC 9649, section 2) and refuses one whose
 * RIFF size disagrees with the file (WebP has no end marker: the size is
 * how a cut is seen), whose chunks run past it, or whose VP8/VP8L header
 * disagrees with its chunk or with the VP8X canvas. The bitstreams inside
 * are left to libwebp, which reports data that ends before the header's
 * size is filled.
 */
export function checkWebpStructure(bytes: Buffer): void {
  if (bytes.length < 20) throw cutShort();
  const riffSize = bytes.readUInt32LE(4);
  if (riffSize + 8 > bytes.length) throw cutShort();
  if (riffSize + 8 < bytes.length) throw new DamagedImageError(`the WebP has ${bytes.length - riffSize - 8} bytes of data after its RIFF container`);
  let canvas: { width: number; height: number } | undefined;
  let bitstream: { width: number; height: number } | undefined;
  for (let at = 12; at < bytes.length; ) {
    if (at + 8 > bytes.length) throw cutShort();
    const type = bytes.toString('latin1', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const data = at + 8;
    // Chunks are padded to an even length.
    const end = data + size + (size & 1);
    if (end > bytes.length) throw new DamagedImageError(`the WebP's ${JSON.stringify(type)} chunk at byte ${at} runs past the end of the file (cut short?)`);
    const body = bytes.subarray(data, data + size);
    if (type === 'VP8X') canvas = vp8xCanvas(body);
    else if (type === 'VP8 ' && !bitstream) bitstream = vp8Size(body);
    else if (type === 'VP8L' && !bitstream) bitstream = vp8lSize(body);
    at = end;
  }
  if (canvas && bitstream && (canvas.width !== bitstream.width || canvas.height !== bitstream.height)) {
    throw new DamagedImageError(`the WebP's canvas is ${canvas.width}x${canvas.height} but its image is ${bitstream.width}x${bitstream.height}`);
  }
}

function cutShort(): DamagedImageError {
  return new DamagedImageError('the WebP is shorter than its RIFF header says (cut short?)');
}

function vp8xCanvas(body: Buffer): { width: number; height: number } {
  if (body.length < 10) throw new DamagedImageError('the WebP\'s VP8X chunk is too short');
  return { width: body.readUIntLE(4, 3) + 1, height: body.readUIntLE(7, 3) + 1 };
}

/** A lossy key frame (RFC 6386, section 9.1): its first partition must fit in the chunk. */
function vp8Size(body: Buffer): { width: number; height: number } {
  if (body.length < 10 || body[3] !== 0x9d || body[4] !== 0x01 || body[5] !== 0x2a) throw new DamagedImageError('the WebP\'s VP8 frame header is not valid');
  const tag = body.readUIntLE(0, 3);
  const firstPartition = tag >> 5;
  if ((tag & 1) !== 0 || 10 + firstPartition > body.length) throw new DamagedImageError('the WebP\'s VP8 frame header is not valid');
  return { width: body.readUInt16LE(6) & 0x3fff, height: body.readUInt16LE(8) & 0x3fff };
}

/** A lossless header (WebP lossless bitstream specification, section 3). */
function vp8lSize(body: Buffer): { width: number; height: number } {
  if (body.length < 5 || body[0] !== 0x2f || body[4]! >> 5 !== 0) throw new DamagedImageError('the WebP\'s VP8L header is not valid');
  const bits = body.readUInt32LE(1);
  return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
}
