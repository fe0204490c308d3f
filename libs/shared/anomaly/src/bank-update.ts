import { graftGraph, GraphEditor, ModelProto } from '@loupe/onnx-graph';
import { addRowOutputs, ANOMALY_OUTPUTS, scoringHead } from './anomaly-head';
import { type AnomalyMetadata, readAnomalyMetadata, readMemoryBank, writeAnomalyMetadata } from './anomaly-model';
import { BankScorer } from './bank-scorer';
import { GreedyCoreset } from './coreset';
import { bankSize, concatenate, type MemoryBank } from './memory-bank';
import type { ChunkPlan } from './nearest-distance';
import { type ImageTensor, PatchExtractor } from './patch-extractor';

export interface BankUpdateOptions {
  /** The model's threshold, in score units (its manifest's anomaly threshold). */
  threshold: number;
  /** Rows the bank may hold; past it the old rows are thinned by a coreset, never the new ones. */
  maxBankSize: number;
  coresetDimension: number;
  seed: number;
  threads?: number;
}

export interface BankUpdate {
  model: ModelProto;
  metadata: AnomalyMetadata;
  plan: ChunkPlan;
  /** Rows added to the bank, and whether old rows were thinned to stay within maxBankSize. */
  added: number;
  thinned: boolean;
  bankRows: number;
}

/**
 * Learning without retraining: confirmed false alarms (good units the model
 * called anomalous) join the bank of a model this library exported, and a
 * new model comes out, in seconds. Only patches the bank does not cover are
 * added: those at least min(coverage radius, threshold) from every row,
 * thinned by a coreset to half that distance, then checked again, so every
 * patch of every image given ends up closer than the threshold to the bank.
 * The backbone, the other heads and the feature projection stay as they are.
 */
export async function addToMemoryBank(model: ModelProto, images: AsyncIterable<ImageTensor> | Iterable<ImageTensor>, options: BankUpdateOptions): Promise<BankUpdate> {
  const metadata = readAnomalyMetadata(model);
  const bank = readMemoryBank(model, metadata);
  const cutoff = Math.min(bank.coverageRadius, options.threshold * bank.scoreUnit);
  const extractor = await featureExtractorOf(model, metadata, options.threads);
  const coreset = await GreedyCoreset.create(bank.dimension, { reducedDimension: options.coresetDimension, seed: options.seed, threads: options.threads });
  try {
    const perImage: Float32Array[] = [];
    const uncovered: Float32Array[] = [];
    const scorer = await scorerFor(bank, extractor, metadata);
    for await (const image of images) {
      const { rows } = await extractor.extract(image);
      perImage.push(rows);
      uncovered.push(farRows(rows, await scorer.distances(rows), cutoff, bank.dimension));
    }
    await scorer.release();
    const candidates = concatenate(uncovered);
    let added = candidates.length === 0 ? candidates : (await coreset.select(candidates, Number.MAX_SAFE_INTEGER, { center: bank.center, stopRadius: cutoff / 2 })).rows;
    // The coreset compared rows in a random projection; confirm in full dimension and add what it missed.
    added = concatenate([added, await stillUncovered(perImage, { ...bank, vectors: concatenate([bank.vectors, added]) }, extractor, metadata, cutoff)]);
    const addedRows = added.length / bank.dimension;
    if (addedRows >= options.maxBankSize) throw new RangeError(`the images hold ${addedRows} patches the bank does not cover, more than its cap of ${options.maxBankSize} rows: build a new bank from them instead`);
    let kept = bank.vectors;
    const thinned = bankSize(bank) + addedRows > options.maxBankSize;
    if (thinned) kept = (await coreset.select(bank.vectors, options.maxBankSize - addedRows)).rows;
    const updated: MemoryBank = { ...bank, vectors: concatenate([kept, added]) };
    return { ...replaceScoring(model, metadata, updated), added: addedRows, thinned, bankRows: bankSize(updated) };
  } finally {
    await Promise.all([extractor.release(), coreset.release()]);
  }
}

/** The model's own backbone and patch features, serving rows: new images are seen exactly as the bank's were. */
async function featureExtractorOf(model: ModelProto, metadata: AnomalyMetadata, threads?: number): Promise<PatchExtractor> {
  const copy = ModelProto.decode(ModelProto.encode(model).finish());
  const editor = new GraphEditor(copy);
  editor.keepOutputs([metadata.features]);
  editor.prune();
  const outputs = addRowOutputs(editor, metadata.features, metadata.spec.features.dimension, metadata.geometry);
  editor.keepOutputs([outputs.rows, outputs.sampled, outputs.mean]);
  return PatchExtractor.fromModel(copy, outputs, metadata.geometry, metadata.spec.features.dimension, { threads });
}

function scorerFor(bank: MemoryBank, extractor: PatchExtractor, metadata: AnomalyMetadata): Promise<BankScorer> {
  return BankScorer.create(bank, { opset: extractor.opset, rowsPerRun: extractor.cells, maxChunkBytes: metadata.spec.maxChunkBytes });
}

async function stillUncovered(perImage: Float32Array[], bank: MemoryBank, extractor: PatchExtractor, metadata: AnomalyMetadata, cutoff: number): Promise<Float32Array> {
  const scorer = await scorerFor(bank, extractor, metadata);
  try {
    const missed: Float32Array[] = [];
    for (const rows of perImage) missed.push(farRows(rows, await scorer.distances(rows), cutoff, bank.dimension));
    return concatenate(missed).map((value, i) => value - bank.center[i % bank.dimension]!);
  } finally {
    await scorer.release();
  }
}

/** Rows at least `cutoff` from the bank (raw, not centred). */
function farRows(rows: Float32Array, distances: Float32Array, cutoff: number, dimension: number): Float32Array {
  const far: number[] = [];
  distances.forEach((distance, row) => {
    if (distance >= cutoff) far.push(row);
  });
  const result = new Float32Array(far.length * dimension);
  far.forEach((row, i) => result.set(rows.subarray(row * dimension, (row + 1) * dimension), i * dimension));
  return result;
}

/** The model with its anomaly head's scoring part (the bank) replaced; outputs keep their order. */
function replaceScoring(model: ModelProto, metadata: AnomalyMetadata, bank: MemoryBank): { model: ModelProto; metadata: AnomalyMetadata; plan: ChunkPlan } {
  const copy = ModelProto.decode(ModelProto.encode(model).finish());
  const order = copy.graph!.output.map((output) => output.name!);
  const anomalyOutputs = new Set([metadata.outputs.score, metadata.outputs.map]);
  const stripping = new GraphEditor(copy);
  stripping.keepOutputs([...order.filter((name) => !anomalyOutputs.has(name)), metadata.features]);
  stripping.prune();
  // A fresh editor: the names the old scoring part used are free again.
  const editor = new GraphEditor(copy);
  const { graph, plan, bankTensors, centerTensor } = scoringHead(editor.opsetVersion, bank, metadata.geometry, metadata.spec.imageScore, metadata.spec.maxChunkBytes);
  const grafted = graftGraph(editor, graph, { features: metadata.features }, metadata.head);
  const outputs = { score: grafted.outputs[ANOMALY_OUTPUTS.score]!, map: grafted.outputs[ANOMALY_OUTPUTS.map]! };
  const renamed: Record<string, string> = { [metadata.outputs.score]: outputs.score, [metadata.outputs.map]: outputs.map };
  editor.keepOutputs(order.map((name) => renamed[name] ?? name));
  editor.prune();
  const updated: AnomalyMetadata = {
    ...metadata,
    outputs,
    bankTensors: bankTensors.map((tensor) => grafted.constants[tensor]!),
    centerTensor: grafted.constants[centerTensor]!,
  };
  writeAnomalyMetadata(copy, updated);
  return { model: copy, metadata: updated, plan };
}
