import { InvalidOnnxModelError, type ModelProto, readFloatTensor } from '@loupe/onnx-graph';
import { z } from 'zod';
import { type AnomalyHeadSpec, anomalyHead, ANOMALY_OUTPUTS } from './anomaly-head';
import { imageScoreSpecSchema } from './image-score';
import type { MemoryBank } from './memory-bank';
import type { ChunkPlan } from './nearest-distance';
import { patchFeatureSpecSchema } from './patch-features';
import { composeStationModel, type NamedHead, type StationModel } from './station-model';

/** Key of the model's metadata_props entry that says where the anomaly head and its bank are. */
export const ANOMALY_METADATA_KEY = 'loupe.anomaly';

const pair = z.tuple([z.number(), z.number()]);

export const anomalyMetadataSchema = z.object({
  head: z.string().min(1),
  /** The patch features NCHW, the value a bank update attaches a new scoring part to. */
  features: z.string().min(1),
  /** Model outputs of the head. */
  outputs: z.object({ score: z.string().min(1), map: z.string().min(1) }),
  bankTensors: z.array(z.string().min(1)).min(1),
  centerTensor: z.string().min(1),
  coverageRadius: z.number().nonnegative(),
  scoreUnit: z.number().positive(),
  spec: z.object({ features: patchFeatureSpecSchema, imageScore: imageScoreSpecSchema, maxChunkBytes: z.number().int().positive() }),
  geometry: z.object({ width: z.number().int().positive(), height: z.number().int().positive(), stride: pair, offset: pair, receptiveField: pair }),
});
export type AnomalyMetadata = z.infer<typeof anomalyMetadataSchema>;

export interface AnomalyModel extends StationModel {
  metadata: AnomalyMetadata;
  plan: ChunkPlan;
}

/**
 * The anomaly model as one ONNX file: backbone -> patch features ->
 * distances to the constant bank, chunk by chunk -> score map -> image
 * score; any other heads (Monitors) read the same backbone pass. The
 * model's metadata says where the bank lives, so a later version can be
 * made from this file alone (see extendMemoryBank).
 */
export function exportAnomalyModel(
  backbone: ModelProto,
  spec: AnomalyHeadSpec,
  bank: MemoryBank,
  input: { height: number; width: number },
  options: { head?: string; otherHeads?: readonly NamedHead[] } = {},
): AnomalyModel {
  const name = options.head ?? 'anomaly';
  const head = anomalyHead(backbone, spec, bank, input);
  const station = composeStationModel(backbone, [{ name, ...head }, ...(options.otherHeads ?? [])], input);
  const values = station.values[name]!;
  const constants = station.constants[name]!;
  const metadata: AnomalyMetadata = {
    head: name,
    features: values[head.features]!,
    outputs: { score: values[ANOMALY_OUTPUTS.score]!, map: values[ANOMALY_OUTPUTS.map]! },
    bankTensors: head.bankTensors.map((tensor) => constants[tensor]!),
    centerTensor: constants[head.centerTensor]!,
    coverageRadius: bank.coverageRadius,
    scoreUnit: bank.scoreUnit,
    spec,
    geometry: head.geometry,
  };
  writeAnomalyMetadata(station.model, metadata);
  return { ...station, metadata, plan: head.plan };
}

export function writeAnomalyMetadata(model: ModelProto, metadata: AnomalyMetadata): void {
  model.metadataProps = [...model.metadataProps.filter((entry) => entry.key !== ANOMALY_METADATA_KEY), { key: ANOMALY_METADATA_KEY, value: JSON.stringify(metadata) }];
}

/** The anomaly head's description in a model this library exported; refuses any other model with the reason. */
export function readAnomalyMetadata(model: ModelProto): AnomalyMetadata {
  const entry = model.metadataProps.find((prop) => prop.key === ANOMALY_METADATA_KEY);
  if (!entry?.value) throw new InvalidOnnxModelError(`the model has no ${ANOMALY_METADATA_KEY} metadata: it was not exported with an anomaly head`);
  let json: unknown;
  try {
    json = JSON.parse(entry.value);
  } catch (error) {
    throw new InvalidOnnxModelError(`the model's ${ANOMALY_METADATA_KEY} metadata is not JSON: ${(error as Error).message}`);
  }
  const parsed = anomalyMetadataSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidOnnxModelError(`the model's ${ANOMALY_METADATA_KEY} metadata is invalid: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** The bank held by a model's anomaly head, read back from its constants. */
export function readMemoryBank(model: ModelProto, metadata = readAnomalyMetadata(model)): MemoryBank {
  const tensors = new Map(model.graph!.initializer.map((tensor) => [tensor.name, tensor]));
  const read = (name: string) => {
    const tensor = tensors.get(name);
    if (!tensor) throw new InvalidOnnxModelError(`the anomaly metadata names ${name}, which is not a constant of the model`);
    return readFloatTensor(tensor);
  };
  const parts = metadata.bankTensors.map(read);
  const vectors = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    vectors.set(part, offset);
    offset += part.length;
  }
  const dimension = metadata.spec.features.dimension;
  const center = read(metadata.centerTensor);
  if (center.length !== dimension || vectors.length % dimension !== 0) throw new InvalidOnnxModelError(`the bank's constants do not hold ${dimension}-dimension rows`);
  return { dimension, vectors, center, coverageRadius: metadata.coverageRadius, scoreUnit: metadata.scoreUnit };
}
