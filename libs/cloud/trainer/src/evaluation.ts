import type { EvaluationDto } from '@loupe/api-contracts';

const CALIBRATION_BINS = 10;

/**
 * A classifier's predictions scored against the labels: accuracy,
 * precision/recall/support per class, macro-F1, confusion[actual][predicted]
 * and the expected calibration error. The prediction is the most probable
 * class (the first of equals).
 *
 * Macro-F1 averages F1 over the classes that occur, as a label or as a
 * prediction: a class absent from both says nothing about the model, and
 * counting it as 0 (or 1) would move the mean by the number of classes the
 * split happens to lack. A class predicted but never present counts, with
 * F1 0. Precision of a class never predicted, and recall of one never
 * present, are 0.
 */
export function evaluate(classes: readonly string[], probabilities: readonly (Float64Array | Float32Array)[], labels: readonly number[]): EvaluationDto {
  checkInputs(classes, probabilities, labels);
  const K = classes.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  const confidences = probabilities.map((row, i) => {
    const predicted = argmax(row);
    const actual = confusion[labels[i]!]!;
    actual[predicted] = actual[predicted]! + 1;
    return { confidence: row[predicted]!, correct: predicted === labels[i] };
  });
  const perClass = classes.map((className, k) => {
    const support = confusion[k]!.reduce((sum, count) => sum + count, 0);
    const predicted = confusion.reduce((sum, row) => sum + row[k]!, 0);
    const hits = confusion[k]![k]!;
    return { className, precision: predicted > 0 ? hits / predicted : 0, recall: support > 0 ? hits / support : 0, support, predicted };
  });
  const occurring = perClass.filter((metrics) => metrics.support > 0 || metrics.predicted > 0);
  const f1 = ({ precision, recall }: { precision: number; recall: number }) => (precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0);
  return {
    samples: labels.length,
    accuracy: confidences.filter((c) => c.correct).length / labels.length,
    macroF1: occurring.reduce((sum, metrics) => sum + f1(metrics), 0) / occurring.length,
    perClass: perClass.map(({ className, precision, recall, support }) => ({ className, precision, recall, support })),
    confusion,
    classes: [...classes],
    calibrationError: expectedCalibrationError(confidences),
  };
}

/**
 * ECE: the top probabilities fall into 10 equal-width bins ([0, 0.1), ...,
 * [0.9, 1], 1 in the last); each bin's |accuracy - mean confidence|,
 * weighted by its share of the samples.
 */
export function expectedCalibrationError(predictions: readonly { confidence: number; correct: boolean }[]): number {
  const bins = Array.from({ length: CALIBRATION_BINS }, () => ({ count: 0, confidence: 0, correct: 0 }));
  for (const { confidence, correct } of predictions) {
    const bin = bins[Math.min(CALIBRATION_BINS - 1, Math.floor(confidence * CALIBRATION_BINS))]!;
    bin.count++;
    bin.confidence += confidence;
    bin.correct += correct ? 1 : 0;
  }
  return bins.reduce((error, bin) => (bin.count === 0 ? error : error + Math.abs(bin.correct - bin.confidence) / predictions.length), 0);
}

function argmax(row: Float64Array | Float32Array): number {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
  return best;
}

function checkInputs(classes: readonly string[], probabilities: readonly (Float64Array | Float32Array)[], labels: readonly number[]): void {
  if (classes.length === 0) throw new RangeError('nothing to evaluate against: no classes');
  if (labels.length === 0) throw new RangeError('nothing to evaluate: no samples');
  if (probabilities.length !== labels.length) throw new RangeError(`${probabilities.length} predictions for ${labels.length} labels`);
  probabilities.forEach((row, i) => {
    if (row.length !== classes.length) throw new RangeError(`prediction ${i} has ${row.length} probabilities for ${classes.length} classes`);
    for (const probability of row) if (!Number.isFinite(probability)) throw new RangeError(`prediction ${i} has a probability that is not finite`);
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes.length) throw new RangeError(`label ${i} is ${label}; classes are 0 to ${classes.length - 1}`);
  });
}
