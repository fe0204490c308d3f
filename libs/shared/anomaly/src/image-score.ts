import type { GraphEditor } from '@loupe/onnx-graph';
import { z } from 'zod';
import { reduce, reshape, slice, topKValues } from './graph-ops';

/**
 * How a score map becomes one score per image. The plain maximum is a poor
 * image score (AUROC 0.53 on DeepPCB): patches at the image border see
 * padding no bank row saw in that place, and one odd cell decides. A box
 * filter, a border left out, and the mean of the top cells are steadier.
 */
export const imageScoreSpecSchema = z.object({
  /** Cells at each edge of the map left out of the image score. */
  border: z.number().int().min(0).max(32),
  /** Side of the box filter over the map before reducing (odd; 1 = none). */
  blur: z
    .number()
    .int()
    .min(1)
    .max(9)
    .refine((size) => size % 2 === 1, 'must be odd'),
  /** The image score is the mean of this many highest cells (1 = the maximum). */
  topK: z.number().int().min(1).max(4096),
});
export type ImageScoreSpec = z.infer<typeof imageScoreSpecSchema>;

/** Refuses a spec that leaves fewer cells than it averages. */
export function checkImageScoreSpec(spec: ImageScoreSpec, map: { width: number; height: number }): void {
  const cells = Math.max(0, map.width - 2 * spec.border) * Math.max(0, map.height - 2 * spec.border);
  if (cells < spec.topK) {
    throw new RangeError(`a ${map.width}x${map.height} map without a border of ${spec.border} cells has ${cells} cells, fewer than topK ${spec.topK}`);
  }
}

/** Adds the image score of a map [batch, 1, height, width]: returns [batch]. */
export function addImageScore(editor: GraphEditor, map: string, size: { width: number; height: number }, spec: ImageScoreSpec): string {
  checkImageScoreSpec(spec, size);
  const pad = (spec.blur - 1) / 2;
  const [blurred] =
    spec.blur === 1
      ? [map]
      : editor.addNode('AveragePool', [map], ['map_blurred'], {
          kernel_shape: { ints: [spec.blur, spec.blur] },
          strides: { ints: [1, 1] },
          pads: { ints: [pad, pad, pad, pad] },
          count_include_pad: { int: 0 },
        });
  const { border } = spec;
  const inner = border === 0 ? blurred! : slice(editor, blurred!, [border, border], [size.height - border, size.width - border], [2, 3], 'map_inner');
  const cells = reshape(editor, inner, [0, -1], 'map_cells');
  if (spec.topK === 1) return reduce(editor, 'ReduceMax', cells, [1], false, 'image_score');
  return reduce(editor, 'ReduceMean', topKValues(editor, cells, spec.topK, 'map_top'), [1], false, 'image_score');
}

/** The same image score computed here, from one map (row-major [height, width]). */
export function imageScore(map: Float32Array, size: { width: number; height: number }, spec: ImageScoreSpec): number {
  checkImageScoreSpec(spec, size);
  const { width, height } = size;
  const blurred = spec.blur === 1 ? map : boxFilter(map, width, height, spec.blur);
  const { border } = spec;
  const inner: number[] = [];
  for (let row = border; row < height - border; row++) for (let column = border; column < width - border; column++) inner.push(blurred[row * width + column]!);
  inner.sort((a, b) => b - a);
  return inner.slice(0, spec.topK).reduce((sum, value) => sum + value, 0) / spec.topK;
}

/** Mean over the size x size window around each cell, counting only cells inside the map (AveragePool, count_include_pad 0). */
export function boxFilter(map: Float32Array, width: number, height: number, size: number): Float32Array {
  const reach = (size - 1) / 2;
  const result = new Float32Array(map.length);
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++) {
      let sum = 0;
      let count = 0;
      for (let y = Math.max(0, row - reach); y <= Math.min(height - 1, row + reach); y++) {
        for (let x = Math.max(0, column - reach); x <= Math.min(width - 1, column + reach); x++) {
          sum += map[y * width + x]!;
          count++;
        }
      }
      result[row * width + column] = sum / count;
    }
  }
  return result;
}
