export { sampleWeights } from './class-weights';
export { type DatasetEntry, type DatasetSplit, datasetVersion } from './dataset-version';
export { evaluate, expectedCalibrationError } from './evaluation';
export { minimize, type MinimizeOptions, type MinimizeResult, type Objective, type StopReason } from './lbfgs';
export { headLogits, headProbabilities, type LinearHead, softmaxInPlace } from './linear-head';
export { fitTemperature, negativeLogLikelihood, TEMPERATURE_RANGE } from './temperature';
export { trainHead } from './trainer';
export type { CandidateFit, LabeledFeatures, TrainedHead, TrainHeadRequest } from './training-request';
