import { createModel, featureMapGeometry, floatTensor, GraphEditor, type GraphProto, type ModelProto } from '@loupe/onnx-graph';
import { addImageScore, type ImageScoreSpec } from './image-score';
import type { MemoryBank } from './memory-bank';
import { addNearestDistance, type ChunkPlan, planChunks } from './nearest-distance';
import { addPatchFeatures, type MapGeometry, type PatchFeatureSpec } from './patch-features';
import { reduce, reshape } from './graph-ops';

/** Everything that decides how an anomaly head scores, besides its bank. */
export interface AnomalyHeadSpec {
  features: PatchFeatureSpec;
  imageScore: ImageScoreSpec;
  /** Cap on the patch-to-bank similarities held at once, per image (see planChunks). */
  maxChunkBytes: number;
}

/** A head written as its own graph; its inputs are named after the backbone values they read. */
export interface HeadGraph {
  graph: GraphProto;
  /** Subgraph input -> backbone value. */
  inputs: Record<string, string>;
  /** Subgraph outputs that become outputs of the station model. */
  outputs: string[];
}

export interface AnomalyHead extends HeadGraph {
  geometry: MapGeometry;
  plan: ChunkPlan;
  /** Subgraph names of the patch features and of the bank's constants (see NearestDistance). */
  features: string;
  bankTensors: string[];
  centerTensor: string;
}

export const ANOMALY_OUTPUTS = { score: 'score', map: 'map' } as const;

/** The backbone layers as inputs of a new head graph at the backbone's opset, with their geometry. */
function headEditor(backbone: ModelProto, spec: PatchFeatureSpec, input: { height: number; width: number }) {
  const editor = new GraphEditor(createModel(new GraphEditor(backbone).opsetVersion, 'head'));
  const geometry = spec.layers.map((layer) => featureMapGeometry(backbone, layer, input));
  const values = spec.layers.map((layer, index) => {
    const { channels, y, x } = geometry[index]!;
    return editor.addInput(layer, ['batch', channels, y.cells, x.cells]);
  });
  return { editor, ...addPatchFeatures(editor, values, geometry, spec) };
}

/**
 * Backbone layers -> patch features as rows [batch, cells, dimension]
 * (`rows`), the rows of every `cellStride`-th cell in each direction
 * (`sampled`, for building banks), and their mean per image [batch,
 * dimension] (`mean`).
 */
export function patchRowsHead(backbone: ModelProto, spec: PatchFeatureSpec, input: { height: number; width: number }, cellStride = 1): HeadGraph & { geometry: MapGeometry } {
  const { editor, features, geometry } = headEditor(backbone, spec, input);
  addRowOutputs(editor, features, spec.dimension, geometry, cellStride);
  return { graph: editor.graph, inputs: identity(spec.layers), outputs: Object.values(PATCH_OUTPUTS), geometry };
}

export const PATCH_OUTPUTS = { rows: 'rows', sampled: 'sampled', mean: 'mean' } as const;
export type PatchOutputs = Record<keyof typeof PATCH_OUTPUTS, string>;

/** Cells of a map taken every `stride`-th cell in each direction. */
export function sampledCells(geometry: Pick<MapGeometry, 'width' | 'height'>, stride: number): number {
  return Math.ceil(geometry.width / stride) * Math.ceil(geometry.height / stride);
}

/**
 * Features NCHW -> `rows`, `sampled` and `mean` as graph outputs; returns
 * their names. Neighbouring cells see mostly the same pixels (a receptive
 * field many strides wide), so a bank loses little when it is built from
 * every second cell, and its coreset gets four times cheaper.
 */
export function addRowOutputs(editor: GraphEditor, features: string, dimension: number, geometry: MapGeometry, cellStride = 1): PatchOutputs {
  const asRows = (value: string, name: string) => {
    const [nhwc] = editor.addNode('Transpose', [value], [`${name}_nhwc`], { perm: { ints: [0, 2, 3, 1] } });
    return editor.addNode('Identity', [reshape(editor, nhwc!, [0, -1, dimension], `${name}_matrix`)], [name])[0]!;
  };
  const rows = asRows(features, PATCH_OUTPUTS.rows);
  // A 1x1 average with a stride is a plain subsampling, at any opset.
  const [strided] =
    cellStride === 1 ? [features] : editor.addNode('AveragePool', [features], ['patch_strided'], { kernel_shape: { ints: [1, 1] }, strides: { ints: [cellStride, cellStride] } });
  const sampled = asRows(strided!, PATCH_OUTPUTS.sampled);
  const [mean] = editor.addNode('Identity', [reduce(editor, 'ReduceMean', features, [2, 3], false, 'patch_mean')], [PATCH_OUTPUTS.mean]);
  editor.exposeOutput(rows, ['batch', geometry.width * geometry.height, dimension]);
  editor.exposeOutput(sampled, ['batch', sampledCells(geometry, cellStride), dimension]);
  editor.exposeOutput(mean!, ['batch', dimension]);
  return { rows, sampled, mean: mean! };
}

/**
 * Backbone layers -> the score map [batch, height, width] (`map`) and one
 * score per image (`score`), against a constant bank.
 */
export function anomalyHead(backbone: ModelProto, spec: AnomalyHeadSpec, bank: MemoryBank, input: { height: number; width: number }): AnomalyHead {
  if (bank.dimension !== spec.features.dimension) throw new RangeError(`the bank holds ${bank.dimension}-dimension rows; the features have ${spec.features.dimension}`);
  const { editor, features, geometry } = headEditor(backbone, spec.features, input);
  const plan = planChunks(bank.vectors.length / bank.dimension, geometry.width * geometry.height, spec.maxChunkBytes);
  const scored = addScoring(editor, features, bank, geometry, spec.imageScore, plan);
  editor.exposeOutput(features, ['batch', spec.features.dimension, geometry.height, geometry.width]);
  return { graph: editor.graph, inputs: identity(spec.features.layers), outputs: Object.values(ANOMALY_OUTPUTS), geometry, plan, features, ...scored };
}

/**
 * Patch features NCHW -> `map` and `score`: the part of the anomaly head
 * that holds the bank, and the part a bank update replaces.
 */
export function scoringHead(opset: number, bank: MemoryBank, geometry: MapGeometry, imageScore: ImageScoreSpec, maxChunkBytes: number) {
  const editor = new GraphEditor(createModel(opset, 'scoring'));
  const features = editor.addInput('features', ['batch', bank.dimension, geometry.height, geometry.width]);
  const plan = planChunks(bank.vectors.length / bank.dimension, geometry.width * geometry.height, maxChunkBytes);
  const scored = addScoring(editor, features, bank, geometry, imageScore, plan);
  return { graph: editor.graph, plan, ...scored };
}

function addScoring(editor: GraphEditor, features: string, bank: MemoryBank, geometry: MapGeometry, imageScore: ImageScoreSpec, plan: ChunkPlan) {
  const nearest = addNearestDistance(editor, features, bank, plan);
  const scaled = inScoreUnits(editor, nearest.distance, bank.scoreUnit);
  const score = addImageScore(editor, scaled, geometry, imageScore);
  const map = reshape(editor, scaled, [0, geometry.height, geometry.width], 'map_cells_2d');
  const [scoreOut] = editor.addNode('Identity', [score], [ANOMALY_OUTPUTS.score]);
  const [mapOut] = editor.addNode('Identity', [map], [ANOMALY_OUTPUTS.map]);
  editor.exposeOutput(scoreOut!, ['batch']);
  editor.exposeOutput(mapOut!, ['batch', geometry.height, geometry.width]);
  return { bankTensors: nearest.bankTensors, centerTensor: nearest.centerTensor };
}

/** Distances divided by the bank's score unit (see MemoryBank.scoreUnit). */
export function inScoreUnits(editor: GraphEditor, distance: string, unit: number): string {
  return editor.addNode('Mul', [distance, editor.addInitializer(floatTensor('per_score_unit', [], [1 / unit]))], ['score_map'])[0]!;
}

function identity(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, name]));
}
