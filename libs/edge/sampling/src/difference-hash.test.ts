import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { differenceHash, hammingDistance } from './difference-hash';

const workspace = join(import.meta.dirname, '..', '..', '..', '..');
const folders = [join(workspace, 'tools', 'demo', 'models', 'pcb-aoi', 'sample-images'), join(workspace, 'tools', 'demo', 'images', 'deeppcb')];
const boards = folders.flatMap((folder) =>
  readdirSync(folder)
    .filter((name) => /\.(png|jpg)$/.test(name))
    .map((name) => join(folder, name)),
);

// Measured on these 15 boards: re-encodes and 90 % resizes move at most 2
// bits, different boards stay at least 13 apart. The bounds leave room for
// another libvips and keep re-encodes under the default duplicateDistance (5).
const SAME_IMAGE = 4;
const DIFFERENT_BOARDS = 10;

describe('differenceHash', () => {
  it('finds the demo boards', () => {
    expect(boards).toHaveLength(15);
  });

  it.each(boards.map((file) => [basename(file), file]))('%s re-encoded as JPEG quality 70 is within 4 bits of itself', async (_name, file) => {
    const original = await readFile(file);
    const reencoded = await sharp(original).jpeg({ quality: 70 }).toBuffer();
    expect(hammingDistance(await differenceHash(original), await differenceHash(reencoded))).toBeLessThanOrEqual(SAME_IMAGE);
  });

  it.each(boards.map((file) => [basename(file), file]))('%s resized to 90 % is within 4 bits of itself', async (_name, file) => {
    const original = await readFile(file);
    const { width } = await sharp(original).metadata();
    const smaller = await sharp(original)
      .resize(Math.round(width * 0.9))
      .png()
      .toBuffer();
    expect(hammingDistance(await differenceHash(original), await differenceHash(smaller))).toBeLessThanOrEqual(SAME_IMAGE);
  });

  it('keeps different boards more than 10 bits apart', async () => {
    const hashes = await Promise.all(boards.map(async (file) => ({ name: basename(file), hash: await differenceHash(await readFile(file)) })));
    const tooClose = hashes.flatMap((a, i) =>
      hashes.slice(i + 1).flatMap((b) => {
        const distance = hammingDistance(a.hash, b.hash);
        return distance > DIFFERENT_BOARDS ? [] : [`${a.name} ~ ${b.name}: ${distance}`];
      }),
    );
    expect(tooClose).toEqual([]);
  });

  it('fits in 64 bits and is the same every time', async () => {
    const image = await readFile(boards[0]!);
    const hash = await differenceHash(image);
    expect(hash).toBe(BigInt.asUintN(64, hash));
    expect(await differenceHash(image)).toBe(hash);
  });

  it('refuses bytes that are not an image', async () => {
    await expect(differenceHash(Buffer.from('not an image'))).rejects.toThrow();
  });
});

describe('hammingDistance', () => {
  it('counts differing bits', () => {
    expect(hammingDistance(0b1011n, 0b1011n)).toBe(0);
    expect(hammingDistance(0b1011n, 0b0010n)).toBe(2);
    expect(hammingDistance(0n, 0xffff_ffff_ffff_ffffn)).toBe(64);
  });

  it('reads negative numbers as their 64-bit pattern', () => {
    expect(hammingDistance(-1n, 0n)).toBe(64);
  });
});
