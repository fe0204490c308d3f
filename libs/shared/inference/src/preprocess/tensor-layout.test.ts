import { describe, expect, it } from 'vitest';
import type { InputSpec } from '../manifest/model-manifest';
import { fromFloat16, toFloat16, writeImageTensor } from './tensor-layout';

const spec = (overrides: Partial<InputSpec>): InputSpec => ({
  name: 'x',
  shape: [-1, 3, 1, 2],
  layout: 'NCHW',
  dtype: 'float32',
  channelOrder: 'RGB',
  resize: { mode: 'stretch', kernel: 'linear' },
  normalize: { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
  ...overrides,
});

// Two pixels: (10, 20, 30) and (40, 50, 60).
const pixels = Buffer.from([10, 20, 30, 40, 50, 60]);

describe('writeImageTensor', () => {
  it('writes planes in NCHW', () => {
    const target = new Float32Array(6);
    writeImageTensor(pixels, spec({}), target, 0);
    expect([...target]).toEqual([10, 40, 20, 50, 30, 60]);
  });

  it('swaps to BGR when the model wants it', () => {
    const target = new Float32Array(6);
    writeImageTensor(pixels, spec({ channelOrder: 'BGR' }), target, 0);
    expect([...target]).toEqual([30, 60, 20, 50, 10, 40]);
  });

  it('interleaves in NHWC', () => {
    const target = new Float32Array(6);
    writeImageTensor(pixels, spec({ layout: 'NHWC', shape: [-1, 1, 2, 3] }), target, 0);
    expect([...target]).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('normalizes as (pixel * scale - mean) / std, per channel', () => {
    const target = new Float32Array(6);
    writeImageTensor(pixels, spec({ normalize: { scale: 1 / 255, mean: [0.5, 0, 0], std: [0.5, 1, 2] } }), target, 0);
    expect(target[0]).toBeCloseTo((10 / 255 - 0.5) / 0.5, 6);
    expect(target[4]).toBeCloseTo(30 / 255 / 2, 6);
  });

  it('writes the second image of a batch after the first', () => {
    const target = new Float32Array(12);
    writeImageTensor(pixels, spec({}), target, 1);
    expect([...target.subarray(6)]).toEqual([10, 40, 20, 50, 30, 60]);
  });
});

describe('float16', () => {
  it('round-trips values within half precision', () => {
    const values = Float32Array.from([0, 1, -2, 0.5, 255, 65504, 1e-5, 3.14159]);
    const back = fromFloat16(toFloat16(values));
    // Half precision keeps 11 significant bits; below 2^-14 it is subnormal.
    values.forEach((value, i) => expect(Math.abs(back[i]! - value)).toBeLessThanOrEqual(Math.max(Math.abs(value) * 2 ** -11, 2 ** -24)));
  });

  it('encodes known bit patterns', () => {
    expect([...toFloat16(Float32Array.from([1, -2, 65504, Infinity]))]).toEqual([0x3c00, 0xc000, 0x7bff, 0x7c00]);
  });
});
