import type { EvaluationDto, TrainingRecipe } from '@loupe/api-contracts';
import type { StopReason } from './lbfgs';
import type { LinearHead } from './linear-head';

/** Pooled feature vectors and their class indices (into `classes`), in the same order. */
export interface LabeledFeatures {
  features: readonly Float32Array[];
  labels: readonly number[];
}

export interface TrainHeadRequest {
  classes: readonly string[];
  /** Passed through to the head: the backbone output the features were pooled from. */
  featureOutput: string;
  train: LabeledFeatures;
  /** Chooses the L2 strength and fits the temperature; may be empty (then neither happens). */
  val: LabeledFeatures;
  /** `cropScale` is the feature extractor's; the trainer reads the rest. */
  recipe: TrainingRecipe;
  /** Called as optimisation goes, done rising to total; the last call has done === total. */
  onProgress?: (done: number, total: number) => void;
}

/** How one L2 strength did: its validation macro-F1 (null without a validation split) and how its optimisation ended. */
export interface CandidateFit {
  l2: number;
  macroF1: number | null;
  iterations: number;
  stop: StopReason;
}

export interface TrainedHead {
  head: LinearHead;
  /** The L2 strength of `head`. */
  l2: number;
  /**
   * The calibrated head on the validation split. Null when the split was
   * empty: then the strongest L2 candidate was taken unselected and the
   * temperature is 1 (uncalibrated).
   */
  validation: EvaluationDto | null;
  /** Every L2 strength trained, strongest first. */
  candidates: CandidateFit[];
}

/** Refuses a request the trainer cannot learn from, naming what is wrong; returns D. */
export function checkTrainHeadRequest({ classes, train, val, recipe }: TrainHeadRequest): number {
  if (classes.length < 2) throw new RangeError(`a classifier needs at least 2 classes; got ${classes.length}`);
  if (new Set(classes).size !== classes.length) throw new RangeError(`class names repeat: ${classes.join(', ')}`);
  const dimension = train.features[0]?.length ?? 0;
  if (dimension === 0) throw new RangeError('the training split has no feature vectors (or empty ones)');
  checkSplit('train', train, classes.length, dimension);
  checkSplit('val', val, classes.length, dimension);
  const present = new Set(train.labels).size;
  if (present < 2) throw new RangeError(`the training split has labels of ${present} class; a classifier needs at least 2`);
  if (recipe.l2Candidates.length === 0) throw new RangeError('the recipe names no L2 strength');
  for (const l2 of recipe.l2Candidates) if (!(Number.isFinite(l2) && l2 >= 0)) throw new RangeError(`L2 strength ${l2} is not a finite number >= 0`);
  if (!(Number.isInteger(recipe.maxIterations) && recipe.maxIterations >= 1)) throw new RangeError(`maxIterations ${recipe.maxIterations} is not a positive integer`);
  return dimension;
}

function checkSplit(name: string, { features, labels }: LabeledFeatures, classCount: number, dimension: number): void {
  if (features.length !== labels.length) throw new RangeError(`the ${name} split has ${features.length} feature vectors for ${labels.length} labels`);
  features.forEach((vector, i) => {
    if (vector.length !== dimension) throw new RangeError(`${name} feature vector ${i} has ${vector.length} values; the first has ${dimension}`);
    for (let d = 0; d < dimension; d++) {
      if (!Number.isFinite(vector[d])) throw new RangeError(`${name} feature vector ${i} holds ${vector[d]} at ${d}; features must be finite`);
    }
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= classCount) throw new RangeError(`${name} label ${i} is ${label}; classes are 0 to ${classCount - 1}`);
  });
}
