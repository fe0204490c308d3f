/** What the queue knows of a sample when it arrives. */
export interface QueuedSample {
  /** The sampler's priority, 0..1: how unsure the model was. */
  samplerPriority: number;
  /** Why the sampler chose it: margin, entropy, random_calibration, ... */
  reason: string;
  /** How many labels the project already has for the class the model predicted, and in all. */
  labelsOfPredictedClass: number;
  labelsInProject: number;
}

// Random calibration picks measure the model, not its doubts: useful, but
// after the samples it was unsure of.
const REASON_WEIGHT: Record<string, number> = { random_calibration: 0.25 };

/**
 * A sample's place in its project's queue, 0..1.25: mostly the model's
 * doubt, raised for classes the labels so far rarely cover (a defect seen
 * ten times teaches more than the thousandth good board). Among equal
 * priorities the oldest sample comes first.
 */
export function queuePriority(sample: QueuedSample): number {
  const doubt = Math.min(1, Math.max(0, sample.samplerPriority)) * (REASON_WEIGHT[sample.reason] ?? 1);
  const share = sample.labelsInProject === 0 ? 0 : sample.labelsOfPredictedClass / sample.labelsInProject;
  const rarity = 1 - share;
  return doubt + 0.25 * rarity;
}
