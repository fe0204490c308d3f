import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LineFunction, strongWolfeLineSearch } from './line-search';

const counted = (fn: (step: number) => [number, number]) => {
  const steps: number[] = [];
  const line: LineFunction = (step) => {
    steps.push(step);
    const [value, slope] = fn(step);
    return { value, slope };
  };
  return { line, steps };
};

const satisfiesStrongWolfe = (fn: (step: number) => [number, number], step: number, c1 = 1e-4, c2 = 0.9) => {
  const [value0, slope0] = fn(0);
  const [value, slope] = fn(step);
  return value <= value0 + c1 * step * slope0 && Math.abs(slope) <= -c2 * slope0;
};

describe('strongWolfeLineSearch', () => {
  it.each([
    { name: 'a parabola whose minimum is at 3, from a short first step', fn: (a: number): [number, number] => [(a - 3) ** 2, 2 * (a - 3)], initial: 0.01 },
    { name: 'a parabola whose minimum is at 0.001, from a long first step', fn: (a: number): [number, number] => [(a - 0.001) ** 2, 2 * (a - 0.001)], initial: 10 },
    { name: 'a quartic, a flat bottom', fn: (a: number): [number, number] => [(a - 2) ** 4, 4 * (a - 2) ** 3], initial: 1 },
    { name: 'a softplus that never turns up', fn: (a: number): [number, number] => [Math.log1p(Math.exp(-a)), -1 / (1 + Math.exp(a))], initial: 1 },
    { name: 'an exponential that overflows beyond step 800', fn: (a: number): [number, number] => [Math.exp(a - 1) - a, Math.exp(a - 1) - 1], initial: 1000 },
  ])('finds a step satisfying both conditions on $name', ({ fn, initial }) => {
    const [value0, slope0] = fn(0);
    const { line, steps } = counted(fn);
    const search = strongWolfeLineSearch(line, value0, slope0, initial);
    expect(search.found).toBe(true);
    if (!search.found) return;
    expect(satisfiesStrongWolfe(fn, search.step)).toBe(true);
    // The accepted step is the last one evaluated, which L-BFGS relies on.
    expect(steps.at(-1)).toBe(search.step);
    expect(search.evaluations).toBe(steps.length);
  });

  it('accepts the first step when it already satisfies both conditions', () => {
    const fn = (a: number): [number, number] => [(a - 1) ** 2, 2 * (a - 1)];
    const search = strongWolfeLineSearch(counted(fn).line, 1, -2, 1);
    expect(search).toMatchObject({ found: true, step: 1, evaluations: 1 });
  });

  it('meets the strong Wolfe conditions on any convex quadratic and any first step', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
        fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
        fc.double({ min: 1e-4, max: 1e4, noNaN: true }),
        (curvature, minimum, initial) => {
          const fn = (a: number): [number, number] => [(curvature / 2) * (a - minimum) ** 2, curvature * (a - minimum)];
          const [value0, slope0] = fn(0);
          const search = strongWolfeLineSearch(counted(fn).line, value0, slope0, initial);
          expect(search.found).toBe(true);
          if (search.found) expect(satisfiesStrongWolfe(fn, search.step)).toBe(true);
        },
      ),
    );
  });

  it('gives up within its budget when the function only falls', () => {
    const search = strongWolfeLineSearch(counted((a) => [-a, -1]).line, 0, -1, 1, { maxEvaluations: 8 });
    expect(search).toEqual({ found: false, evaluations: 8 });
  });

  it('refuses a direction that is not downhill', () => {
    expect(() => strongWolfeLineSearch(counted((a) => [a, 1]).line, 0, 1, 1)).toThrow(RangeError);
  });
});
