import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planChunks } from './nearest-distance';

describe('planChunks', () => {
  it('keeps the similarities of one chunk under the limit and covers the whole bank', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 1, max: 30_000 }), fc.integer({ min: 1024, max: 64 * 1024 * 1024 }), (rows, cells, limit) => {
        const plan = planChunks(rows, cells, limit);
        expect(plan.chunkRows * plan.chunks).toBeGreaterThanOrEqual(rows);
        expect((plan.chunks - 1) * plan.chunkRows).toBeLessThan(rows);
        if (plan.chunkRows > 1) expect(plan.peakBytesPerImage).toBeLessThanOrEqual(limit);
      }),
    );
    expect(planChunks(2048, 6241, 8 * 1024 * 1024)).toEqual({ chunkRows: 336, chunks: 7, peakBytesPerImage: 4 * 6241 * 336 });
    expect(() => planChunks(0, 10, 100)).toThrow(/empty memory bank/);
  });
});
