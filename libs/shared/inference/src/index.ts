export { DeadlineExceededError, QueueFullError, type BatchSettings } from './batching/micro-batcher';
export {
  InvalidManifestError,
  modelManifestSchema,
  parseModelManifest,
  readModelManifest,
  manifestHeads,
  type AnomalyMapSpec,
  type ModelHead,
  type ModelManifest,
  type VerdictRule,
} from './manifest/model-manifest';
export {
  backboneManifestSchema,
  backboneOf,
  parseBackboneManifest,
  parsePackagedModel,
  type BackboneManifest,
  type BackboneSpec,
  type PackagedModel,
} from './manifest/backbone-manifest';
export { featureOutputSchema, type FeatureOutput } from './manifest/feature-output';
export { GoldenSampleMismatchError, ModelPipeline, type Inspection, type PipelineSettings, type StageTimings } from './pipeline/model-pipeline';
export { ModelSlot, NoActiveModelError } from './pipeline/model-slot';
export { type AnomalyRegion, type HeatMap, heatMapPng, quantizeHeatMap, type RegionOptions, topRegions } from './postprocess/anomaly-map';
export type { OriginalBox } from './postprocess/original-box';
export type { DetectionBox, LabelScore, Prediction } from './postprocess/prediction';
export { combineVerdicts, type HeadResult, type StationVerdict } from './postprocess/verdict';
export { DEFAULT_MAX_IMAGE_PIXELS, decodeImage, type ImageGeometry, inputSize, type PixelRegion } from './preprocess/image-decoder';
export { fromFloat16, toFloat16, writeImageTensor } from './preprocess/tensor-layout';
export { DamagedImageError, InvalidImageError } from './preprocess/invalid-image.error';
export { NoUsableProviderError, PROVIDERS, type ProviderName, type ProviderSettings } from './runtime/execution-providers';
export { ModelLoadError } from './runtime/loaded-model';
