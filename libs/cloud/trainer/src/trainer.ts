import type { EvaluationDto } from '@loupe/api-contracts';
import { sampleWeights } from './class-weights';
import { evaluate } from './evaluation';
import { minimize } from './lbfgs';
import { headLogits, type LinearHead, softmaxInPlace } from './linear-head';
import { parameterCount, softmaxRegressionObjective, type TrainingMatrix } from './softmax-regression';
import { fitStandardisation, type Standardisation, standardise } from './standardisation';
import { fitTemperature } from './temperature';
import { type CandidateFit, checkTrainHeadRequest, type TrainedHead, type TrainHeadRequest } from './training-request';

/**
 * Stop once no weight's gradient exceeds this (scikit-learn's default `tol`
 * for the same mean loss), or a step gains less than 1e-10 of the loss:
 * finer convergence moves no prediction, and with weak L2 on separable
 * features it would spend the whole iteration budget growing the weights.
 */
const CONVERGENCE = { gradientTolerance: 1e-4, relativeTolerance: 1e-10 } as const;

/**
 * Trains a softmax-regression head on frozen backbone features: standardise
 * (mean and scale from train), minimise the class-weighted cross-entropy
 * with L2 by L-BFGS for each L2 strength, strongest first and each starting
 * from the last one's weights (a regularisation path: weaker L2 starts
 * near its answer), keep the one with the best validation macro-F1 (ties go
 * to the stronger), then fit the temperature on the validation split.
 * Deterministic: the same request gives the same head.
 */
export function trainHead(request: TrainHeadRequest): TrainedHead {
  const dimension = checkTrainHeadRequest(request);
  const { classes, train, val, recipe } = request;
  const standardisation = fitStandardisation(train.features, dimension);
  const matrix: TrainingMatrix = {
    features: standardise(train.features, standardisation),
    labels: train.labels,
    weights: sampleWeights(train.labels, classes.length, recipe.classWeighting),
    dimension,
    classCount: classes.length,
  };
  const validated = val.labels.length > 0;
  const strongestFirst = [...new Set(recipe.l2Candidates)].sort((a, b) => b - a);
  const fits = fitPath(request, matrix, standardisation, validated ? strongestFirst : strongestFirst.slice(0, 1));
  // Strictly better only, so a tie keeps the stronger L2 met first.
  const chosen = fits.reduce((best, fit) => ((fit.macroF1 ?? 0) > (best.macroF1 ?? 0) ? fit : best));
  const temperature = validated ? fitTemperature(chosen.logits, val.labels) : 1;
  return {
    head: { ...chosen.head, temperature },
    l2: chosen.l2,
    validation: validated ? evaluateLogits(classes, chosen.logits, val.labels, temperature) : null,
    candidates: fits.map(({ l2, macroF1, iterations, stop }) => ({ l2, macroF1, iterations, stop })),
  };
}

interface PathFit extends CandidateFit {
  head: LinearHead;
  /** The head's logits on the validation split, before any temperature. */
  logits: Float64Array[];
}

/** One fit per L2 strength, in the order given, each starting from the previous one's parameters. */
function fitPath(request: TrainHeadRequest, matrix: TrainingMatrix, standardisation: Standardisation, strengths: readonly number[]): PathFit[] {
  const { classes, val, recipe, onProgress } = request;
  const total = strengths.length * recipe.maxIterations;
  let parameters: Float64Array = new Float64Array(parameterCount(matrix));
  return strengths.map((l2, index) => {
    const fit = minimize(softmaxRegressionObjective(matrix, l2), parameters, {
      ...CONVERGENCE,
      maxIterations: recipe.maxIterations,
      onIteration: (iteration) => onProgress?.(index * recipe.maxIterations + iteration, total),
    });
    parameters = fit.x;
    const head = toHead(request, standardisation, fit.x);
    const logits = val.features.map((vector) => headLogits(head, vector));
    const macroF1 = val.labels.length > 0 ? evaluateLogits(classes, logits, val.labels, 1).macroF1 : null;
    onProgress?.((index + 1) * recipe.maxIterations, total);
    return { l2, macroF1, iterations: fit.iterations, stop: fit.stop, head, logits };
  });
}

/** The parameters as the float32 head the graph will hold; the trainer predicts through it from here on. */
function toHead(request: TrainHeadRequest, { mean, scale }: Standardisation, parameters: Float64Array): LinearHead {
  const dimension = mean.length;
  const weightCount = request.classes.length * dimension;
  return {
    classes: [...request.classes],
    featureOutput: request.featureOutput,
    dimension,
    mean,
    scale,
    weights: Float32Array.from(parameters.subarray(0, weightCount)),
    bias: Float32Array.from(parameters.subarray(weightCount)),
    temperature: 1,
  };
}

function evaluateLogits(classes: readonly string[], logits: readonly Float64Array[], labels: readonly number[], temperature: number): EvaluationDto {
  return evaluate(
    classes,
    logits.map((row) => softmaxInPlace(Float64Array.from(row), temperature)),
    labels,
  );
}
