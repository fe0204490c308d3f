import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { drawnRect, fittedRect, HANDLES, movedRect, resizedRect, type Rect } from './box-geometry';

const IMAGE = { width: 640, height: 480 };

/** What every rect handed to the cloud must be: on the image, on whole pixels, never empty. */
function expectAnswerable(rect: Rect, image = IMAGE) {
  for (const value of [rect.x, rect.y, rect.width, rect.height]) expect(Number.isInteger(value)).toBe(true);
  expect(rect.width).toBeGreaterThanOrEqual(1);
  expect(rect.height).toBeGreaterThanOrEqual(1);
  expect(rect.x).toBeGreaterThanOrEqual(0);
  expect(rect.y).toBeGreaterThanOrEqual(0);
  expect(rect.x + rect.width).toBeLessThanOrEqual(image.width);
  expect(rect.y + rect.height).toBeLessThanOrEqual(image.height);
}

// Points well off the image too, and the values a broken pointer event could carry.
const point = fc.record({
  x: fc.oneof(fc.double({ min: -2_000, max: 2_000, noNaN: true }), fc.constantFrom(0, 640, -0.4, 640.4)),
  y: fc.oneof(fc.double({ min: -2_000, max: 2_000, noNaN: true }), fc.constantFrom(0, 480, -0.4, 480.4)),
});
const rect = fc.record({ x: fc.integer({ min: 0, max: 639 }), y: fc.integer({ min: 0, max: 479 }), width: fc.integer({ min: 1, max: 640 }), height: fc.integer({ min: 1, max: 480 }) }).map((r) => ({
  ...r,
  width: Math.min(r.width, 640 - r.x),
  height: Math.min(r.height, 480 - r.y),
}));

describe('drawnRect', () => {
  it('draws from any corner to the opposite one, rounded to whole pixels', () => {
    expect(drawnRect({ x: 10.4, y: 20.6 }, { x: 50.5, y: 60 }, IMAGE)).toEqual({ x: 10, y: 21, width: 41, height: 39 });
    expect(drawnRect({ x: 50, y: 60 }, { x: 10, y: 20 }, IMAGE)).toEqual({ x: 10, y: 20, width: 40, height: 40 });
  });

  it('stops at the image edge and draws nothing for a click or a drag off the image', () => {
    expect(drawnRect({ x: 600, y: 400 }, { x: 900, y: 900 }, IMAGE)).toEqual({ x: 600, y: 400, width: 40, height: 80 });
    expect(drawnRect({ x: 10, y: 10 }, { x: 10.2, y: 40 }, IMAGE)).toBeNull();
    expect(drawnRect({ x: -50, y: 10 }, { x: -10, y: 40 }, IMAGE)).toBeNull();
  });

  it('draws only answerable boxes, or nothing, from any two points', () => {
    fc.assert(
      fc.property(point, point, (start, end) => {
        const drawn = drawnRect(start, end, IMAGE);
        if (drawn) expectAnswerable(drawn);
      }),
    );
  });
});

describe('movedRect', () => {
  it('moves by image pixels and stops at the edges, keeping its size', () => {
    const box = { x: 100, y: 100, width: 50, height: 40 };
    expect(movedRect(box, 10, -5, IMAGE)).toEqual({ x: 110, y: 95, width: 50, height: 40 });
    expect(movedRect(box, 1_000, 1_000, IMAGE)).toEqual({ x: 590, y: 440, width: 50, height: 40 });
    expect(movedRect(box, -1_000, -1_000, IMAGE)).toEqual({ x: 0, y: 0, width: 50, height: 40 });
  });

  it('keeps any box answerable however far it is moved', () => {
    fc.assert(fc.property(rect, point, (box, by) => expectAnswerable(movedRect(box, by.x, by.y, IMAGE))));
  });
});

describe('resizedRect', () => {
  const box = { x: 100, y: 100, width: 50, height: 40 };

  it('moves the edges its handle names and leaves the others', () => {
    expect(resizedRect(box, 'se', { x: 200, y: 180 }, IMAGE)).toEqual({ x: 100, y: 100, width: 100, height: 80 });
    expect(resizedRect(box, 'n', { x: 999, y: 90 }, IMAGE)).toEqual({ x: 100, y: 90, width: 50, height: 50 });
    expect(resizedRect(box, 'w', { x: 120, y: -999 }, IMAGE)).toEqual({ x: 120, y: 100, width: 30, height: 40 });
  });

  it('flips when dragged past the opposite edge, and keeps a pixel when squeezed flat', () => {
    expect(resizedRect(box, 'e', { x: 80, y: 0 }, IMAGE)).toEqual({ x: 80, y: 100, width: 20, height: 40 });
    expect(resizedRect(box, 'e', { x: 100, y: 0 }, IMAGE)).toEqual({ x: 100, y: 100, width: 1, height: 40 });
    expect(resizedRect({ x: 639, y: 0, width: 1, height: 5 }, 'w', { x: 700, y: 0 }, IMAGE)).toEqual({ x: 639, y: 0, width: 1, height: 5 });
  });

  it('keeps any box answerable whichever handle is dragged wherever', () => {
    fc.assert(fc.property(rect, fc.constantFrom(...HANDLES), point, (start, handle, to) => expectAnswerable(resizedRect(start, handle, to, IMAGE))));
  });
});

describe('fittedRect', () => {
  it("trims a model's box to the image and drops one that is off it or not a number", () => {
    expect(fittedRect({ x: -10.2, y: 470, width: 30, height: 30 }, IMAGE)).toEqual({ x: 0, y: 470, width: 20, height: 10 });
    expect(fittedRect({ x: 700, y: 10, width: 30, height: 30 }, IMAGE)).toBeNull();
    expect(fittedRect({ x: Number.NaN, y: 10, width: 30, height: 30 }, IMAGE)).toBeNull();
    expect(fittedRect({ x: 0, y: 10, width: Number.POSITIVE_INFINITY, height: 30 }, IMAGE)).toBeNull();
  });
});
