import { logSumExp } from './softmax-regression';

/** Temperatures searched: from sharpening 20x to flattening 20x; a head needing more is broken, not miscalibrated. */
export const TEMPERATURE_RANGE = { min: 0.05, max: 20 } as const;

/** Mean negative log-likelihood of the labels under softmax(logits / temperature). */
export function negativeLogLikelihood(logits: readonly Float64Array[], labels: readonly number[], temperature: number): number {
  if (logits.length === 0) throw new RangeError('the likelihood needs at least one sample');
  let total = 0;
  const scaled = new Float64Array(logits[0]!.length);
  logits.forEach((row, i) => {
    for (let k = 0; k < row.length; k++) scaled[k] = row[k]! / temperature;
    total += logSumExp(scaled) - scaled[labels[i]!]!;
  });
  return total / logits.length;
}

/**
 * Temperature scaling (Guo et al., "On Calibration of Modern Neural
 * Networks", 2017): the one T that minimises the held-out NLL. The NLL is
 * convex in 1/T, so unimodal in log T, and a golden-section search over
 * log T finds its minimum without derivatives; log T because a factor of 2
 * matters the same whether T is 0.5 or 8. It never changes which class wins.
 */
export function fitTemperature(logits: readonly Float64Array[], labels: readonly number[]): number {
  const nll = (logT: number) => negativeLogLikelihood(logits, labels, Math.exp(logT));
  const ratio = (Math.sqrt(5) - 1) / 2;
  let [a, b] = [Math.log(TEMPERATURE_RANGE.min), Math.log(TEMPERATURE_RANGE.max)];
  let c = b - ratio * (b - a);
  let d = a + ratio * (b - a);
  let [fc, fd] = [nll(c), nll(d)];
  // 1e-5 in log T is a temperature within 0.001%: far below what the NLL can tell apart.
  while (b - a > 1e-5) {
    if (fc <= fd) {
      [b, d, fd] = [d, c, fc];
      c = b - ratio * (b - a);
      fc = nll(c);
    } else {
      [a, c, fc] = [c, d, fd];
      d = a + ratio * (b - a);
      fd = nll(d);
    }
  }
  return Math.exp((a + b) / 2);
}
