import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actualSizeView, fitView, panBy, scaleLimits, toImagePoint, wheelZoomFactor, zoomAt, zoomPercent, type Size, type Viewport } from './viewport';

const IMAGE = { width: 1600, height: 1200 };
const STAGE = { width: 800, height: 400 };

const size = (max: number) => fc.record({ width: fc.integer({ min: 1, max }), height: fc.integer({ min: 1, max }) });

/** On-screen length of the image's overlap with the stage, per axis. */
function visible(view: Viewport, image: Size, stage: Size) {
  const overlap = (offset: number, length: number, stageLength: number) => Math.min(offset + length * view.scale, stageLength) - Math.max(offset, 0);
  return { x: overlap(view.x, image.width, stage.width), y: overlap(view.y, image.height, stage.height) };
}

describe('fitView', () => {
  it('shows the whole image as large as the stage allows, centred', () => {
    const fit = fitView(IMAGE, STAGE);
    expect(fit.scale).toBeCloseTo(1 / 3);
    expect(fit.x).toBeCloseTo((800 - 1600 / 3) / 2);
    expect(fit.y).toBe(0);
    expect(fitView({ width: 100, height: 50 }, STAGE)).toEqual({ scale: 8, x: 0, y: 0 });
  });

  it('falls back to 1:1 for a stage or image not yet measured', () => {
    expect(fitView(IMAGE, { width: 0, height: 0 }).scale).toBe(1);
    expect(fitView({ width: 0, height: 0 }, STAGE).scale).toBe(1);
  });
});

describe('zoomAt', () => {
  it('keeps the image point under the pointer where it was', () => {
    const view = fitView(IMAGE, STAGE);
    const anchor = { x: 420, y: 150 };
    const zoomed = zoomAt(view, 4, anchor, IMAGE, STAGE);
    expect(zoomed.scale).toBeCloseTo(4 / 3);
    const before = toImagePoint(view, anchor);
    const after = toImagePoint(zoomed, anchor);
    expect(after.x).toBeCloseTo(before.x);
    expect(after.y).toBeCloseTo(before.y);
  });

  it('stops at 32 screen pixels per image pixel and at half of fit-to-screen', () => {
    const view = fitView(IMAGE, STAGE);
    expect(zoomAt(view, 1_000, { x: 400, y: 200 }, IMAGE, STAGE).scale).toBe(32);
    expect(zoomAt(view, 0.001, { x: 400, y: 200 }, IMAGE, STAGE).scale).toBeCloseTo(1 / 6);
    expect(scaleLimits({ width: 10, height: 10 }, { width: 1000, height: 1000 })).toEqual({ min: 1, max: 100 });
  });

  it('keeps the scale within its limits and part of the image on the stage, whatever the zoom and pan', () => {
    const step = fc.oneof(
      fc.record({ zoom: fc.double({ min: 0.01, max: 100, noNaN: true }), x: fc.integer({ min: -500, max: 3000 }), y: fc.integer({ min: -500, max: 3000 }) }),
      fc.record({ dx: fc.integer({ min: -1e5, max: 1e5 }), dy: fc.integer({ min: -1e5, max: 1e5 }) }),
    );
    fc.assert(
      fc.property(size(20_000), size(3_000), fc.array(step, { maxLength: 20 }), (image, stage, steps) => {
        let view = fitView(image, stage);
        for (const s of steps) view = 'zoom' in s ? zoomAt(view, s.zoom, s, image, stage) : panBy(view, s.dx, s.dy, image, stage);
        const { min, max } = scaleLimits(image, stage);
        expect(view.scale).toBeGreaterThanOrEqual(min);
        expect(view.scale).toBeLessThanOrEqual(max);
        const shown = visible(view, image, stage);
        expect(shown.x).toBeGreaterThanOrEqual(Math.min(48, image.width * view.scale, stage.width) - 1e-6);
        expect(shown.y).toBeGreaterThanOrEqual(Math.min(48, image.height * view.scale, stage.height) - 1e-6);
      }),
    );
  });
});

describe('panBy', () => {
  it('moves the image by screen pixels, but never off the stage', () => {
    const view = zoomAt(fitView(IMAGE, STAGE), 3, { x: 400, y: 200 }, IMAGE, STAGE);
    expect(panBy(view, 10, -20, IMAGE, STAGE)).toEqual({ scale: view.scale, x: view.x + 10, y: view.y - 20 });
    const far = panBy(view, 1e6, 1e6, IMAGE, STAGE);
    expect(far).toEqual({ scale: view.scale, x: 800 - 48, y: 400 - 48 });
  });
});

describe('actualSizeView', () => {
  it('shows one image pixel per screen pixel around the stage centre', () => {
    const view = fitView(IMAGE, STAGE);
    const actual = actualSizeView(view, IMAGE, STAGE);
    expect(actual.scale).toBe(1);
    expect(zoomPercent(actual)).toBe(100);
    expect(toImagePoint(actual, { x: 400, y: 200 })).toEqual(toImagePoint(view, { x: 400, y: 200 }));
  });
});

describe('wheelZoomFactor', () => {
  it('zooms in on a wheel turned away from the user, one step per mouse notch, and less for small touchpad moves', () => {
    expect(wheelZoomFactor(-100, 0)).toBeCloseTo(1.25);
    expect(wheelZoomFactor(100, 0)).toBeCloseTo(0.8);
    expect(wheelZoomFactor(-3, 1)).toBeLessThan(1.25);
    expect(wheelZoomFactor(-3, 1)).toBeGreaterThan(1);
    expect(wheelZoomFactor(-4, 0)).toBeCloseTo(Math.exp((4 * Math.log(1.25)) / 100));
    expect(wheelZoomFactor(-10_000, 0)).toBeCloseTo(1.25);
    expect(wheelZoomFactor(1, 2)).toBeCloseTo(0.8);
  });
});
