import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { AnomalyMapSpec } from '../manifest/model-manifest';
import { heatMapPng, quantizeHeatMap, topRegions } from './anomaly-map';

const spec = (width: number, height: number): AnomalyMapSpec => ({ output: 'map', width, height, stride: [8, 8], offset: [7, 7], receptiveField: [79, 79] });

/** A map from rows of text: '.' is 0, a digit d is d. */
const mapOf = (...rows: string[]) => Float32Array.from(rows.join('').split(''), (cell) => (cell === '.' ? 0 : Number(cell)));

describe('quantizeHeatMap', () => {
  it('puts the threshold in the middle, saturates at twice it, and counts what is not a score as 0', () => {
    const heat = quantizeHeatMap(Float32Array.from([0, 1, 2, 5, -1, Number.NaN]), spec(3, 2), 1);
    expect(Array.from(heat.values)).toEqual([0, 128, 255, 255, 0, 0]);
    expect(heat.fullScale).toBe(2);
    expect(Array.from(quantizeHeatMap(Float32Array.from([1, 4]), spec(2, 1), 1, 4).values)).toEqual([64, 255]);
  });

  it('keeps the order of scores, for any map', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.float({ min: Math.fround(0.1), max: 5, noNaN: true }), (scores, threshold) => {
        const heat = quantizeHeatMap(Float32Array.from(scores), spec(scores.length, 1), threshold);
        for (let i = 0; i < scores.length; i++) for (let j = 0; j < scores.length; j++) if (scores[i]! < scores[j]!) expect(heat.values[i]).toBeLessThanOrEqual(heat.values[j]!);
      }),
    );
  });

  it('refuses a map of another size than the manifest says, and a scale that is no number', () => {
    expect(() => quantizeHeatMap(new Float32Array(5), spec(2, 2), 1)).toThrow(/emitted 5 map cells; the manifest's 2x2 map has 4/);
    expect(() => quantizeHeatMap(new Float32Array(4), spec(2, 2), 0)).toThrow(/full scale must be a positive number/);
  });

  it('encodes as a greyscale PNG of one pixel per cell that decodes to the same bytes', async () => {
    const heat = quantizeHeatMap(Float32Array.from({ length: 79 * 79 }, (_, i) => (i % 97) / 40), spec(79, 79), 1);
    const png = await heatMapPng(heat);
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 79, height: 79, channels: 1 });
    const { data } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect(new Uint8Array(data)).toEqual(heat.values);
    expect(png.length).toBeLessThan(79 * 79);
  });
});

describe('topRegions', () => {
  it('ranks 8-connected areas at or above the level by their highest cell, as boxes of their cells', () => {
    const map = mapOf(
      '2.....', //
      '.3...9',
      '......',
      '..55..',
    );
    const regions = topRegions(map, spec(6, 4), { level: 2, limit: 5 });
    expect(regions).toEqual([
      { x: 43, y: 11, width: 8, height: 8, score: 9, cells: 1 },
      { x: 19, y: 27, width: 16, height: 8, score: 5, cells: 2 },
      // (0,0) and (1,1) touch at a corner: one region.
      { x: 3, y: 3, width: 16, height: 16, score: 3, cells: 2 },
    ]);
    expect(topRegions(map, spec(6, 4), { level: 2, limit: 1 })).toHaveLength(1);
    expect(topRegions(map, spec(6, 4), { level: 10, limit: 5 })).toEqual([]);
  });

  it('undoes the resize to give boxes on the camera image', () => {
    // A 1280x960 camera image stretched to the model's 48x32 input: x scaled by 48/1280, y by 32/960.
    const image = { width: 1280, height: 960, scaleX: 48 / 1280, scaleY: 32 / 960, padX: 0, padY: 0, offsetX: 0, offsetY: 0 };
    const [region] = topRegions(mapOf('......', '.7....', '......', '......'), spec(6, 4), { level: 1, limit: 1 }, image);
    expect(region!.x).toBeCloseTo(11 / (48 / 1280), 6);
    expect(region!.width).toBeCloseTo(8 / (48 / 1280), 6);
    expect(region!.y).toBeCloseTo(11 / (32 / 960), 6);
  });

  it('puts every cell at or above the level in exactly one region, whose box holds the cell’s centre', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.array(fc.float({ min: 0, max: 3, noNaN: true }), { minLength: 144, maxLength: 144 }), fc.float({ min: Math.fround(0.5), max: 2.5, noNaN: true }), (width, height, cells, level) => {
          const map = Float32Array.from(cells.slice(0, width * height));
          const regions = topRegions(map, spec(width, height), { level, limit: width * height });
          expect(regions.reduce((sum, region) => sum + region.cells, 0)).toBe(map.filter((score) => score >= level).length);
          map.forEach((score, cell) => {
            if (score < level) return;
            const [x, y] = [7 + 8 * (cell % width), 7 + 8 * Math.floor(cell / width)];
            expect(regions.some((region) => x >= region.x && x <= region.x + region.width && y >= region.y && y <= region.y + region.height && region.score >= score)).toBe(true);
          });
        },
      ),
    );
  });

  it('refuses a map of the wrong size and a limit that is no count', () => {
    expect(() => topRegions(new Float32Array(3), spec(2, 2), { level: 1, limit: 1 })).toThrow(/emitted 3 map cells/);
    expect(() => topRegions(new Float32Array(4), spec(2, 2), { level: 1, limit: 1.5 })).toThrow(/whole number/);
  });
});
