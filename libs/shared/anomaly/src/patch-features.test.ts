import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpolationMatrix } from './patch-features';

const axis = fc.record({ stride: fc.integer({ min: 1, max: 32 }), offset: fc.integer({ min: 0, max: 40 }), receptiveField: fc.constant(1), cells: fc.integer({ min: 1, max: 60 }) });

describe('interpolationMatrix', () => {
  it('gives every target cell its centre position from the source cells around it, clamped at the edges', () => {
    fc.assert(
      fc.property(axis, axis, (target, source) => {
        const matrix = interpolationMatrix(target, source);
        const sourceCentres = Array.from({ length: source.cells }, (_, s) => source.offset + source.stride * s);
        for (let t = 0; t < target.cells; t++) {
          const row = matrix.subarray(t * source.cells, (t + 1) * source.cells);
          expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
          const centre = target.offset + target.stride * t;
          const expected = Math.min(Math.max(centre, sourceCentres[0]!), sourceCentres.at(-1)!);
          expect(row.reduce((sum, weight, s) => sum + weight * sourceCentres[s]!, 0)).toBeCloseTo(expected, 3);
        }
      }),
    );
  });

  it('aligns SqueezeNet fire7 (stride 16, offset 15) onto fire5 (stride 8, offset 7): odd cells exactly, even cells halfway', () => {
    const matrix = interpolationMatrix({ stride: 8, offset: 7, receptiveField: 63, cells: 79 }, { stride: 16, offset: 15, receptiveField: 143, cells: 39 });
    expect(Array.from(matrix.subarray(3 * 39, 3 * 39 + 3))).toEqual([0, 1, 0]);
    expect(Array.from(matrix.subarray(4 * 39, 4 * 39 + 3))).toEqual([0, 0.5, 0.5]);
  });
});
