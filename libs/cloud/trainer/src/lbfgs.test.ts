import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { minimize, type Objective } from './lbfgs';

/** f(x) = 1/2 x'Ax - b'x with A = M'M + I (symmetric positive definite), minimised where Ax = b. */
function quadratic(m: number[][], b: number[]): Objective {
  const n = b.length;
  const a = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0) + m.reduce((sum, row) => sum + row[i]! * row[j]!, 0)));
  return (x, gradient) => {
    let value = 0;
    for (let i = 0; i < n; i++) {
      let ax = 0;
      for (let j = 0; j < n; j++) ax += a[i]![j]! * x[j]!;
      gradient[i] = ax - b[i]!;
      value += 0.5 * x[i]! * ax - b[i]! * x[i]!;
    }
    return value;
  };
}

/** The extended Rosenbrock function: a curved valley whose floor leads to (1, ..., 1). */
const rosenbrock: Objective = (x, gradient) => {
  gradient.fill(0);
  let value = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    const [a, b] = [x[i]!, x[i + 1]!];
    value += 100 * (b - a * a) ** 2 + (1 - a) ** 2;
    gradient[i] = gradient[i]! - 400 * a * (b - a * a) - 2 * (1 - a);
    gradient[i + 1] = gradient[i + 1]! + 200 * (b - a * a);
  }
  return value;
};

describe('minimize (L-BFGS)', () => {
  // relativeTolerance 0: near the minimum the value changes by less than its own rounding, so only the gradient test may stop these.
  it('solves a diagonal quadratic to the gradient tolerance', () => {
    const result = minimize(quadratic([[3, 0, 0], [0, 1, 0], [0, 0, 0.1]], [1, 2, 3]), new Float64Array(3), { gradientTolerance: 1e-7, relativeTolerance: 0 });
    expect(result.stop).toBe('gradient');
    expect([...result.x].map((v) => +v.toFixed(6))).toEqual([0.1, 1, 2.970297]);
  });

  it('reaches the solution of Ax = b on random positive definite quadratics', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }).chain((n) =>
          fc.record({
            m: fc.array(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n }), { minLength: 1, maxLength: n }),
            b: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n }),
          }),
        ),
        ({ m, b }) => {
          const objective = quadratic(m, b);
          const result = minimize(objective, new Float64Array(b.length), { gradientTolerance: 1e-6, relativeTolerance: 0, maxIterations: 500 });
          expect(result.stop).toBe('gradient');
          const gradient = new Float64Array(b.length);
          objective(result.x, gradient);
          for (const component of gradient) expect(Math.abs(component)).toBeLessThanOrEqual(1e-6);
        },
      ),
    );
  });

  it.each([2, 10, 100])('finds the minimum of the %i-dimensional Rosenbrock function from the classic start', (n) => {
    const start = Float64Array.from({ length: n }, (_, i) => (i % 2 === 0 ? -1.2 : 1));
    const result = minimize(rosenbrock, start, { maxIterations: 2_000, gradientTolerance: 1e-8 });
    expect(result.stop).toBe('gradient');
    for (const coordinate of result.x) expect(coordinate).toBeCloseTo(1, 5);
    expect(result.value).toBeLessThan(1e-10);
  });

  it('never raises the value from one iteration to the next', () => {
    const values: number[] = [];
    minimize(rosenbrock, Float64Array.from([-1.2, 1, -1.2, 1]), { onIteration: (_, value) => values.push(value) });
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]!);
  });

  it('stops when an iteration no longer lowers the value by the relative tolerance', () => {
    // 1000 + the extended Rosenbrock function: a step that gains less than 1e-3 stops it.
    const lifted: Objective = (x, gradient) => 1000 + rosenbrock(x, gradient);
    const start = Float64Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? -1.2 : 1));
    const loose = minimize(lifted, start, { gradientTolerance: 0, relativeTolerance: 1e-6 });
    const tight = minimize(lifted, start, { gradientTolerance: 1e-8, relativeTolerance: 0 });
    expect(loose.stop).toBe('no-progress');
    expect(loose.iterations).toBeLessThan(tight.iterations);
    expect(loose.value).toBeLessThan(1000.1);
  });

  it('stops at the iteration limit and says so', () => {
    const result = minimize(rosenbrock, Float64Array.from([-1.2, 1]), { maxIterations: 3 });
    expect(result).toMatchObject({ stop: 'max-iterations', iterations: 3 });
  });

  it('returns the start untouched when it is already a minimum', () => {
    const result = minimize(rosenbrock, Float64Array.from([1, 1]));
    expect(result).toMatchObject({ stop: 'gradient', iterations: 0, evaluations: 1, value: 0 });
  });

  it('refuses a start where the objective is not finite', () => {
    expect(() => minimize(() => Number.NaN, new Float64Array(2))).toThrow(RangeError);
  });
});
