import { floatTensor, type GraphEditor } from '@loupe/onnx-graph';
import { reduce } from './graph-ops';
import { bankSize, type MemoryBank } from './memory-bank';

/** How the bank is split inside the graph, and the largest tensor that split leaves. */
export interface ChunkPlan {
  /** Bank rows compared in one step (the last chunk may be smaller). */
  chunkRows: number;
  chunks: number;
  /** Bytes of the biggest intermediate per image: cells x chunkRows float32 similarities. */
  peakBytesPerImage: number;
}

/**
 * Splits the bank so that no step holds more than `maxBytesPerImage` of
 * patch-to-bank similarities per image: the full cells x bank matrix is
 * what made PatchCore exports need hundreds of MB per image.
 */
export function planChunks(rows: number, cells: number, maxBytesPerImage: number): ChunkPlan {
  if (rows < 1) throw new RangeError('an empty memory bank scores nothing');
  const chunkRows = Math.max(1, Math.min(rows, Math.floor(maxBytesPerImage / (4 * cells))));
  return { chunkRows, chunks: Math.ceil(rows / chunkRows), peakBytesPerImage: 4 * cells * chunkRows };
}

export interface NearestDistance {
  /** [batch, 1, height, width]. */
  distance: string;
  /** The constants holding the bank rows, in row order, and its centre: where to read the bank back from. */
  bankTensors: string[];
  centerTensor: string;
}

/**
 * Adds, for features NCHW [batch, dimension, height, width], the distance
 * from every cell to its nearest bank row: [batch, 1, height, width].
 *
 * min_b |x - b|² = |x|² - 2 max_b (x·b - |b|²/2). Each chunk of rows is a
 * 1x1 Conv (weights b, bias -|b|²/2) whose channels are reduced by
 * ReduceMax at once, and a running Max carries the best over chunks, so
 * only one chunk's similarities exist at a time.
 */
export function addNearestDistance(editor: GraphEditor, features: string, bank: MemoryBank, plan: ChunkPlan): NearestDistance {
  const { dimension } = bank;
  const center = editor.addInitializer(floatTensor('bank_center', [1, dimension, 1, 1], bank.center));
  const [centred] = editor.addNode('Sub', [features, center], ['centred']);
  const squared = reduce(editor, 'ReduceSumSquare', centred!, [1], true, 'squared_norm');
  const size = bankSize(bank);
  let best: string | undefined;
  const bankTensors: string[] = [];
  for (let start = 0; start < size; start += plan.chunkRows) {
    const rows = Math.min(plan.chunkRows, size - start);
    const vectors = bank.vectors.subarray(start * dimension, (start + rows) * dimension);
    const weights = editor.addInitializer(floatTensor('bank', [rows, dimension, 1, 1], vectors));
    bankTensors.push(weights);
    const bias = editor.addInitializer(floatTensor('bank_half_norm', [rows], halfSquaredNorms(vectors, dimension)));
    const [similarity] = editor.addNode('Conv', [centred!, weights, bias], ['bank_similarity'], { kernel_shape: { ints: [1, 1] } });
    const chunkBest = reduce(editor, 'ReduceMax', similarity!, [1], true, 'chunk_best');
    best = best === undefined ? chunkBest : editor.addNode('Max', [best, chunkBest], ['best_similarity'])[0]!;
  }
  const [twice] = editor.addNode('Add', [best!, best!], ['twice_best']);
  const [squaredDistance] = editor.addNode('Sub', [squared, twice!], ['squared_distance']);
  // Rounding can leave a tiny negative where a patch equals a bank row.
  const [clamped] = editor.addNode('Relu', [squaredDistance!], ['squared_distance_clamped']);
  const [distance] = editor.addNode('Sqrt', [clamped!], ['nearest_distance']);
  return { distance: distance!, bankTensors, centerTensor: center };
}

function halfSquaredNorms(vectors: Float32Array, dimension: number): Float32Array {
  const rows = vectors.length / dimension;
  const result = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    let sum = 0;
    for (let i = row * dimension; i < (row + 1) * dimension; i++) sum += vectors[i]! * vectors[i]!;
    result[row] = -sum / 2;
  }
  return result;
}
