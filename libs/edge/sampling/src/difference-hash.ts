import sharp from 'sharp';

const COLUMNS = 9;
const ROWS = 8;
const CELL = 16;

/**
 * A 64-bit difference hash (dHash): the image in grey, averaged into 9x8
 * cells, one bit per pair of horizontal neighbours (1 when the left cell is
 * brighter), first row in the most significant bits. Re-encoding or
 * rescaling an image barely moves it; another scene lands far away.
 *
 * The cells are exact means of a 144x128 thumbnail rather than a direct
 * 9x8 resize. On the demo boards, whose neighbouring cells often differ by
 * only a grey level or two, a direct resize let a JPEG re-encode (quality
 * 70) of Normal_33.png move 12 bits, well past any useful duplicate
 * distance; with exact cell means no JPEG re-encode (quality 50 to 90) or
 * 90 % resize of a demo board moves more than 2.
 */
export async function differenceHash(image: Buffer): Promise<bigint> {
  const { data, info } = await sharp(image)
    // Orientation tags are lost on re-encode; hash what a person would see.
    .autoOrient()
    // Transparent pixels would otherwise hash as whatever colour they hide.
    .flatten()
    .greyscale()
    .resize(COLUMNS * CELL, ROWS * CELL, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const cells = new Float64Array(COLUMNS * ROWS);
  for (let y = 0; y < ROWS * CELL; y++) {
    for (let x = 0; x < COLUMNS * CELL; x++) {
      cells[Math.floor(y / CELL) * COLUMNS + Math.floor(x / CELL)]! += data[(y * info.width + x) * info.channels]!;
    }
  }
  let hash = 0n;
  for (let row = 0; row < ROWS; row++) {
    for (let column = 0; column < COLUMNS - 1; column++) {
      const left = cells[row * COLUMNS + column]!;
      const right = cells[row * COLUMNS + column + 1]!;
      hash = (hash << 1n) | (left > right ? 1n : 0n);
    }
  }
  return hash;
}

/** Number of differing bits between two 64-bit hashes, 0 to 64. */
export function hammingDistance(a: bigint, b: bigint): number {
  let differing = BigInt.asUintN(64, a ^ b);
  let count = 0;
  while (differing !== 0n) {
    differing &= differing - 1n;
    count++;
  }
  return count;
}
