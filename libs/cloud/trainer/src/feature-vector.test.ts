import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { featureBytes, featureVector } from './feature-vector';

describe('feature vectors as bytes', () => {
  it('come back as they were, wherever in a pooled buffer the bytes lie', () => {
    fc.assert(
      fc.property(fc.float32Array({ minLength: 1, maxLength: 64 }), fc.nat(7), (vector, shift) => {
        // Buffer.from of a few bytes comes out of Node's shared pool, at any offset.
        const pooled = Buffer.concat([Buffer.alloc(shift), featureBytes(vector)]).subarray(shift);
        const back = featureVector(pooled, vector.length);
        expect(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(featureBytes(vector))).toBe(true);
      }),
    );
  });

  it('are copies: the vector does not change when its buffer is reused', () => {
    const bytes = featureBytes(Float32Array.of(1, 2, 3));
    const vector = featureVector(bytes, 3);
    bytes.fill(0);
    expect([...vector]).toEqual([1, 2, 3]);
  });

  it('refuse bytes that are not the stated number of features', () => {
    expect(() => featureVector(Buffer.alloc(10), 3)).toThrow(/10 bytes are not 3 float32 features/);
  });
});
