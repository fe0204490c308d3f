import { describe, expect, it } from 'vitest';
import { adjusted, adjustmentFilter, AS_CAPTURED } from './adjustments';
import { viewerKey } from './viewer-keys';

describe('viewer keys', () => {
  it('zooms with + and - (and = for + without Shift), fits with 0 and shows one-to-one with Shift+1', () => {
    expect(viewerKey('+', true)).toEqual({ kind: 'zoom', factor: 1.25 });
    expect(viewerKey('=', false)).toEqual({ kind: 'zoom', factor: 1.25 });
    expect(viewerKey('-', false)).toEqual({ kind: 'zoom', factor: 0.8 });
    expect(viewerKey('0', false)).toEqual({ kind: 'fit' });
    expect(viewerKey('!', true)).toEqual({ kind: 'actualSize' });
  });

  it('pans the view the way the arrow points, further with Shift', () => {
    expect(viewerKey('ArrowRight', false)).toEqual({ kind: 'pan', dx: -64, dy: 0 });
    expect(viewerKey('ArrowUp', true)).toEqual({ kind: 'pan', dx: 0, dy: 256 });
  });

  it('raises brightness and contrast with B and C, lowers them with Shift, and resets with R', () => {
    expect(viewerKey('b', false)).toEqual({ kind: 'adjust', brightness: 10 });
    expect(viewerKey('B', true)).toEqual({ kind: 'adjust', brightness: -10 });
    expect(viewerKey('C', true)).toEqual({ kind: 'adjust', contrast: -10 });
    expect(viewerKey('r', false)).toEqual({ kind: 'reset' });
  });

  it('leaves the class keys and every other key alone', () => {
    for (const key of ['1', '9', 's', 'z', 'Enter', 'Delete', 'n']) expect(viewerKey(key, false)).toBeUndefined();
  });
});

describe('adjustments', () => {
  it('keeps brightness and contrast within 25-300% in whole percents', () => {
    expect(adjusted(AS_CAPTURED, { brightness: 1_000 })).toEqual({ brightness: 300, contrast: 100 });
    expect(adjusted(AS_CAPTURED, { contrast: -5 })).toEqual({ brightness: 100, contrast: 25 });
    expect(adjusted(AS_CAPTURED, { contrast: 133.3 })).toEqual({ brightness: 100, contrast: 133 });
  });

  it('draws the image untouched as captured, and through a CSS filter otherwise', () => {
    expect(adjustmentFilter(AS_CAPTURED)).toBe('none');
    expect(adjustmentFilter({ brightness: 150, contrast: 80 })).toBe('brightness(150%) contrast(80%)');
  });
});
