/**
 * A step length along a descent direction that satisfies the strong Wolfe
 * conditions (Nocedal & Wright, Numerical Optimization, 2nd ed., algorithms
 * 3.5 and 3.6): enough decrease (Armijo) and a slope flattened enough that
 * L-BFGS's curvature pair stays positive definite.
 */

/** The objective along the direction: its value and slope at a step length. */
export type LineFunction = (step: number) => { value: number; slope: number };

export interface LineSearchOptions {
  /** Armijo constant: the decrease asked for, as a share of the linear prediction. */
  armijo?: number;
  /** Curvature constant: |slope| must fall to this share of the starting slope. 0.9 is the quasi-Newton standard. */
  curvature?: number;
  maxEvaluations?: number;
}

export type LineSearchResult =
  | { found: true; step: number; value: number; slope: number; evaluations: number }
  | { found: false; evaluations: number };

interface Point {
  step: number;
  value: number;
  slope: number;
}

/**
 * Searches from step 0 (value0, slope0 < 0) starting at `initialStep`. When
 * found, the accepted step is the last one `line` evaluated, so a caller that
 * keeps the point of its last evaluation holds the accepted one.
 */
export function strongWolfeLineSearch(line: LineFunction, value0: number, slope0: number, initialStep: number, options: LineSearchOptions = {}): LineSearchResult {
  if (!(slope0 < 0)) throw new RangeError(`a line search needs a descent direction; the slope is ${slope0}`);
  const c1 = options.armijo ?? 1e-4;
  const c2 = options.curvature ?? 0.9;
  const budget = options.maxEvaluations ?? 30;
  let evaluations = 0;
  const evaluate = (step: number): Point => {
    evaluations++;
    return { step, ...line(step) };
  };
  const sufficient = (point: Point) => Number.isFinite(point.value) && point.value <= value0 + c1 * point.step * slope0;
  const flat = (point: Point) => Math.abs(point.slope) <= -c2 * slope0;

  const zoom = (low: Point, high: Point): LineSearchResult => {
    while (evaluations < budget) {
      const point = evaluate(interpolate(low, high));
      if (!sufficient(point) || point.value >= low.value) high = point;
      else {
        if (flat(point)) return { found: true, ...point, evaluations };
        if (point.slope * (high.step - low.step) >= 0) high = low;
        low = point;
      }
      if (Math.abs(high.step - low.step) <= 1e-14 * Math.max(1, low.step)) break;
    }
    return { found: false, evaluations };
  };

  let previous: Point = { step: 0, value: value0, slope: slope0 };
  let step = initialStep;
  while (evaluations < budget) {
    const point = evaluate(step);
    if (!sufficient(point) || (evaluations > 1 && point.value >= previous.value)) return zoom(previous, point);
    if (flat(point)) return { found: true, ...point, evaluations };
    if (point.slope >= 0) return zoom(point, previous);
    previous = point;
    step *= 2;
  }
  return { found: false, evaluations };
}

/**
 * The minimiser of the cubic through both ends' values and slopes, kept at
 * least a tenth of the interval from either end; bisection when the cubic
 * has no usable minimum (or an end overflowed).
 */
function interpolate(a: Point, b: Point): number {
  const lo = Math.min(a.step, b.step);
  const width = Math.abs(b.step - a.step);
  const bisect = lo + width / 2;
  const d1 = a.slope + b.slope - (3 * (a.value - b.value)) / (a.step - b.step);
  const radicand = d1 * d1 - a.slope * b.slope;
  if (!(radicand >= 0) || !Number.isFinite(radicand)) return bisect;
  const d2 = Math.sign(b.step - a.step) * Math.sqrt(radicand);
  const step = b.step - (b.step - a.step) * ((b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2));
  const margin = width / 10;
  return Number.isFinite(step) && step >= lo + margin && step <= lo + width - margin ? step : bisect;
}
