import { type AxisGeometry, type FeatureMapGeometry, floatTensor, type GraphEditor } from '@loupe/onnx-graph';
import { z } from 'zod';
import { SeededRandom } from './seeded-random';

/**
 * How a backbone's feature maps become one feature vector per patch
 * (PatchCore, Roth et al. 2022): each layer averaged over a small
 * neighbourhood of cells, projected by a fixed random matrix, brought onto
 * the grid of the first layer, and summed (which equals projecting the
 * concatenation of the layers).
 */
export const patchFeatureSpecSchema = z.object({
  /** Backbone values (NCHW) to read; the first sets the grid of the score map. */
  layers: z.array(z.string().min(1)).min(1).max(4),
  /** Side of the square neighbourhood averaged around each cell (odd; 1 = none). */
  aggregation: z
    .number()
    .int()
    .min(1)
    .max(9)
    .refine((size) => size % 2 === 1, 'must be odd'),
  /** Size of a patch feature after the random projection. */
  dimension: z.number().int().min(8).max(1024),
  /** Seed of the projection matrix. */
  seed: z.number().int().min(0).max(2 ** 32 - 1),
});
export type PatchFeatureSpec = z.infer<typeof patchFeatureSpecSchema>;

/** Where the score map's cells sit in model-input pixels, per axis [x, y]. */
export interface MapGeometry {
  width: number;
  height: number;
  /** Cell (column, row) is centred on (offset[0] + stride[0] * column, offset[1] + stride[1] * row). */
  stride: [number, number];
  offset: [number, number];
  /** Pixels around the centre that a cell's score depends on. */
  receptiveField: [number, number];
}

/**
 * Adds the patch-feature computation on `layerValues` (the spec's layers,
 * as values of the editor's graph, with their geometry). Returns the
 * features, NCHW [batch, dimension, height, width], and their grid.
 */
export function addPatchFeatures(
  editor: GraphEditor,
  layerValues: readonly string[],
  layerGeometry: readonly FeatureMapGeometry[],
  spec: PatchFeatureSpec,
): { features: string; geometry: MapGeometry } {
  const random = new SeededRandom(spec.seed);
  const grid = layerGeometry[0]!;
  const pad = (spec.aggregation - 1) / 2;
  const parts = layerValues.map((value, index) => {
    const geometry = layerGeometry[index]!;
    // JL scaling: entries N(0, 1/dimension) keep squared distances in expectation.
    const weights = random.gaussians(spec.dimension * geometry.channels, 1 / Math.sqrt(spec.dimension));
    const [pooled] =
      spec.aggregation === 1
        ? [value]
        : editor.addNode('AveragePool', [value], ['patch_pooled'], {
            kernel_shape: { ints: [spec.aggregation, spec.aggregation] },
            strides: { ints: [1, 1] },
            pads: { ints: [pad, pad, pad, pad] },
            count_include_pad: { int: 0 },
          });
    const kernel = editor.addInitializer(floatTensor('patch_projection', [spec.dimension, geometry.channels, 1, 1], weights));
    const [projected] = editor.addNode('Conv', [pooled!, kernel], ['patch_projected'], { kernel_shape: { ints: [1, 1] } });
    return index === 0 ? projected! : alignToGrid(editor, projected!, geometry, grid);
  });
  const [features] = parts.length === 1 ? parts : editor.addNode('Sum', parts, ['patch_features']);
  const reach = (geometry: FeatureMapGeometry, axis: 'x' | 'y', index: number) =>
    geometry[axis].receptiveField + (spec.aggregation - 1) * geometry[axis].stride + (index === 0 ? 0 : geometry[axis].stride);
  const receptive = (axis: 'x' | 'y') => Math.max(...layerGeometry.map((geometry, index) => reach(geometry, axis, index)));
  return {
    features: features!,
    geometry: {
      width: grid.x.cells,
      height: grid.y.cells,
      stride: [grid.x.stride, grid.y.stride],
      offset: [grid.x.offset, grid.y.offset],
      receptiveField: [receptive('x'), receptive('y')],
    },
  };
}

/**
 * Bilinear resampling of a coarser map onto the grid's cell centres, as two
 * constant matrix products (rows, then columns). Unlike Resize, it places
 * every cell exactly where the geometry says, for any pair of strides and
 * offsets, and it runs at any opset.
 */
function alignToGrid(editor: GraphEditor, value: string, from: FeatureMapGeometry, grid: FeatureMapGeometry): string {
  const columns = interpolationMatrix(grid.x, from.x);
  const columnsT = new Float32Array(columns.length);
  for (let t = 0; t < grid.x.cells; t++) for (let s = 0; s < from.x.cells; s++) columnsT[s * grid.x.cells + t] = columns[t * from.x.cells + s]!;
  const right = editor.addInitializer(floatTensor('patch_align_columns', [from.x.cells, grid.x.cells], columnsT));
  const left = editor.addInitializer(floatTensor('patch_align_rows', [grid.y.cells, from.y.cells], interpolationMatrix(grid.y, from.y)));
  const [wide] = editor.addNode('MatMul', [value, right], ['patch_aligned_columns']);
  const [aligned] = editor.addNode('MatMul', [left, wide!], ['patch_aligned']);
  return aligned!;
}

/**
 * Row-major [target cells, source cells]: the linear-interpolation weights
 * that give each target cell's centre from the source cells around it
 * (clamped at the edges, so every row sums to 1).
 */
export function interpolationMatrix(target: AxisGeometry, source: AxisGeometry): Float32Array {
  const matrix = new Float32Array(target.cells * source.cells);
  for (let t = 0; t < target.cells; t++) {
    const position = (target.offset + target.stride * t - source.offset) / source.stride;
    const clamped = Math.min(Math.max(position, 0), source.cells - 1);
    const low = Math.floor(clamped);
    const high = Math.min(low + 1, source.cells - 1);
    const fraction = clamped - low;
    matrix[t * source.cells + low]! += 1 - fraction;
    matrix[t * source.cells + high]! += fraction;
  }
  return matrix;
}
