import { strongWolfeLineSearch } from './line-search';

/** Writes the gradient at x into `gradient` and returns the value there. */
export type Objective = (x: Float64Array, gradient: Float64Array) => number;

export interface MinimizeOptions {
  maxIterations?: number;
  /** Curvature pairs kept: 10 is the usual trade of memory for a better Hessian model. */
  memory?: number;
  /** Stop when the largest gradient component is at most this. */
  gradientTolerance?: number;
  /** Stop when an iteration lowers the value by less than this share of it. */
  relativeTolerance?: number;
  /** Called after every iteration, e.g. to report progress. */
  onIteration?: (iteration: number, value: number) => void;
}

export type StopReason = 'gradient' | 'no-progress' | 'max-iterations' | 'line-search-failed';

export interface MinimizeResult {
  x: Float64Array;
  value: number;
  /** The largest gradient component at x. */
  gradientNorm: number;
  iterations: number;
  evaluations: number;
  stop: StopReason;
}

/**
 * Limited-memory BFGS (Nocedal & Wright, algorithm 7.4/7.5) with a strong
 * Wolfe line search. Deterministic: the same objective and start give the
 * same iterates. On a failed line search it keeps the last accepted point.
 */
export function minimize(objective: Objective, start: Float64Array, options: MinimizeOptions = {}): MinimizeResult {
  const { maxIterations = 300, memory = 10, gradientTolerance = 1e-6, relativeTolerance = 1e-12 } = options;
  const n = start.length;
  let x = Float64Array.from(start);
  let gradient = new Float64Array(n);
  let value = objective(x, gradient);
  let trial = new Float64Array(n);
  let trialGradient = new Float64Array(n);
  const direction = new Float64Array(n);
  const history = new CurvatureHistory(n, memory);
  let evaluations = 1;
  let iterations = 0;
  const result = (stop: StopReason): MinimizeResult => ({ x, value, gradientNorm: maxAbs(gradient), iterations, evaluations, stop });
  if (!Number.isFinite(value)) throw new RangeError(`the objective is ${value} at the starting point`);

  while (maxAbs(gradient) > gradientTolerance) {
    if (iterations >= maxIterations) return result('max-iterations');
    history.direction(gradient, direction);
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // Rounding can spoil the Hessian model far into a run: start it afresh.
      history.clear();
      history.direction(gradient, direction);
      slope = dot(gradient, direction);
    }
    const initialStep = history.size === 0 ? Math.min(1, 1 / Math.sqrt(dot(gradient, gradient))) : 1;
    const search = strongWolfeLineSearch(
      (step) => {
        for (let i = 0; i < n; i++) trial[i] = x[i]! + step * direction[i]!;
        const trialValue = objective(trial, trialGradient);
        return { value: trialValue, slope: dot(trialGradient, direction) };
      },
      value,
      slope,
      initialStep,
    );
    evaluations += search.evaluations;
    if (!search.found) return result('line-search-failed');
    history.push(trial, x, trialGradient, gradient);
    [x, trial] = [trial, x];
    [gradient, trialGradient] = [trialGradient, gradient];
    const previousValue = value;
    value = search.value;
    iterations++;
    options.onIteration?.(iterations, value);
    if (previousValue - value <= relativeTolerance * Math.abs(previousValue)) return result('no-progress');
  }
  return result('gradient');
}

/** The last `memory` pairs s = x' - x, y = g' - g, and the two-loop recursion over them. */
class CurvatureHistory {
  private readonly steps: Float64Array[] = [];
  private readonly changes: Float64Array[] = [];
  private readonly rhos: number[] = [];
  private readonly alphas: Float64Array;

  constructor(
    private readonly n: number,
    private readonly memory: number,
  ) {
    this.alphas = new Float64Array(memory);
  }

  get size(): number {
    return this.steps.length;
  }

  clear(): void {
    this.steps.length = this.changes.length = this.rhos.length = 0;
  }

  push(next: Float64Array, current: Float64Array, nextGradient: Float64Array, gradient: Float64Array): void {
    const reuse = this.steps.length === this.memory;
    const s = reuse ? this.steps.shift()! : new Float64Array(this.n);
    const y = reuse ? this.changes.shift()! : new Float64Array(this.n);
    if (reuse) this.rhos.shift();
    for (let i = 0; i < this.n; i++) {
      s[i] = next[i]! - current[i]!;
      y[i] = nextGradient[i]! - gradient[i]!;
    }
    const sy = dot(s, y);
    // The Wolfe conditions make s.y > 0; a pair without curvature would break positive definiteness.
    if (!(sy > 1e-12 * Math.sqrt(dot(y, y) * dot(s, s)))) return;
    this.steps.push(s);
    this.changes.push(y);
    this.rhos.push(1 / sy);
  }

  /** -H g into `out`, H the inverse Hessian model scaled by s.y / y.y of the newest pair. */
  direction(gradient: Float64Array, out: Float64Array): void {
    for (let i = 0; i < this.n; i++) out[i] = -gradient[i]!;
    for (let k = this.steps.length - 1; k >= 0; k--) {
      const alpha = this.rhos[k]! * dot(this.steps[k]!, out);
      this.alphas[k] = alpha;
      axpy(-alpha, this.changes[k]!, out);
    }
    const newest = this.steps.length - 1;
    if (newest >= 0) {
      const y = this.changes[newest]!;
      const gamma = 1 / (this.rhos[newest]! * dot(y, y));
      for (let i = 0; i < this.n; i++) out[i] = out[i]! * gamma;
    }
    for (let k = 0; k < this.steps.length; k++) {
      const beta = this.rhos[k]! * dot(this.changes[k]!, out);
      axpy(this.alphas[k]! - beta, this.steps[k]!, out);
    }
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] = y[i]! + alpha * x[i]!;
}

function maxAbs(values: Float64Array): number {
  let largest = 0;
  for (const value of values) largest = Math.max(largest, Math.abs(value));
  return largest;
}
