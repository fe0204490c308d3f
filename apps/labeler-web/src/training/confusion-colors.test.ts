import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cellFill, cellShare, contrastRatio, textOn } from './confusion-colors';

describe('confusion matrix colours', () => {
  it('shades each cell by its share of the actual class, so rare classes show their mistakes', () => {
    const confusion = [
      [90, 10],
      [1, 1],
      [0, 0],
    ];
    expect(cellShare(confusion, 0, 1)).toBe(0.1);
    expect(cellShare(confusion, 1, 0)).toBe(0.5);
    expect(cellShare(confusion, 2, 0)).toBe(0);
    expect(cellShare(confusion, 7, 0)).toBe(0);
  });

  it('runs from white for none to dark blue for all, darker with every larger share', () => {
    expect(cellFill(0)).toBe('#ffffff');
    expect(cellFill(1)).toBe('#08306b');
    expect([cellFill(-1), cellFill(2), cellFill(Number.NaN)]).toEqual(['#ffffff', '#08306b', '#ffffff']);
    const steps = Array.from({ length: 11 }, (_, index) => contrastRatio(cellFill(index / 10), '#ffffff'));
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
  });

  it('keeps the count readable (WCAG AA, 4.5:1) on every shade', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (share) => {
        const fill = cellFill(share);
        expect(contrastRatio(fill, textOn(fill))).toBeGreaterThanOrEqual(4.5);
      }),
    );
    expect([textOn(cellFill(0)), textOn(cellFill(1))]).toEqual(['#000000', '#ffffff']);
  });

  it('measures contrast as WCAG does', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    // #767676 is the well-known lightest grey that passes AA on white.
    expect(contrastRatio('#767676', '#ffffff')).toBeCloseTo(4.54, 2);
  });
});
